#include "lb/config/shared_config.h"

#include "common/log.h"
#include "lb/config/config_edit.h"

namespace lb {

namespace {

constexpr std::chrono::milliseconds kRetryEvery{1000};
// A watch that ended (read timeout, etcd restarting) is begun again this soon.
constexpr std::chrono::milliseconds kRewatchAfter{100};
// Admin writes that lose a compare-and-swap race read and edit again, this many times in all.
constexpr int kWriteAttempts = 5;

}  // namespace

SharedConfig::SharedConfig(std::string url, std::string key, Metrics& metrics)
    : url_(std::move(url)), key_(std::move(key)), metrics_(metrics), client_(url_) {}

SharedConfig::~SharedConfig() { stop(); }

Options SharedConfig::starting_options(int argc, const char* const* argv, Options flags) {
  bool waiting_logged = false;
  for (;;) {
    try {
      const EtcdRange range = client_.range(key_);
      note_reachable();
      note_absent(!range.value);
      if (range.value) {
        try {
          Options options = parse_options(argc, argv, &range.value->value);
          taken(range.value->value, range.value->mod_revision);
          return options;
        } catch (const OptionsError& e) {
          if (flags.check_only) throw;
          std::lock_guard<std::mutex> lock(mutex_);
          rejected_revision_ = range.value->mod_revision;
          metrics_.config_etcd_rejected.fetch_add(1, std::memory_order_relaxed);
          common::log_line("[etcd] revision " + std::to_string(rejected_revision_) + " of " + key_ +
                           " rejected: " + e.what());
        }
      }
    } catch (const EtcdError& e) {
      if (flags.check_only) throw OptionsError("--config-etcd: " + std::string(e.what()));
      note_unreachable(e.what());
    }
    if (!flags.pools.empty()) return flags;
    if (flags.check_only) throw OptionsError("--config-etcd: no config at " + key_ + " and no --backend");
    if (!waiting_logged) {
      common::log_line("[etcd] no --backend given: waiting for a valid config at " + key_ + " before listening");
      waiting_logged = true;
    }
    if (!pause(kRetryEvery)) return flags;
  }
}

void SharedConfig::start(Apply apply) {
  apply_ = std::move(apply);
  finished_ = false;
  thread_ = std::thread([this] {
    watch_loop();
    finished_ = true;
  });
}

void SharedConfig::stop() {
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  // A stop that comes before the watch's socket is open does nothing: repeat until the thread is out.
  while (thread_.joinable() && !finished_) {
    client_.stop_watch();
    std::unique_lock<std::mutex> lock(wake_mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(20));
  }
  if (thread_.joinable()) thread_.join();
}

bool SharedConfig::pause(std::chrono::milliseconds pause) {
  std::unique_lock<std::mutex> lock(wake_mutex_);
  return !wake_.wait_for(lock, pause, [this] { return stopping_.load(); });
}

std::optional<std::string> SharedConfig::current_text() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return text_;
}

SharedConfigHooks SharedConfig::hooks() {
  SharedConfigHooks hooks;
  hooks.write = [this](const BackendChange& change) { return write(change); };
  hooks.status = [this] {
    std::lock_guard<std::mutex> lock(mutex_);
    return nlohmann::json{{"source", "etcd"},
                          {"key", key_},
                          {"revision", revision_},
                          {"etcd_reachable", !unreachable_.load()}};
  };
  return hooks;
}

void SharedConfig::watch_loop() {
  while (!stopping_) {
    std::chrono::milliseconds wait = kRetryEvery;
    try {
      // A range first: what changed while no watch ran (start, a break, a compaction).
      const EtcdRange range = client_.range(key_);
      note_reachable();
      note_absent(!range.value);
      if (range.value) take(*range.value);
      const EtcdClient::WatchEnd end =
          client_.watch(key_, range.revision + 1, [this](const EtcdWatchMessage& message) {
            if (stopping_ || !message.error.empty() || message.canceled) return false;  // begin again
            for (const EtcdWatchMessage::Event& event : message.events) {
              note_absent(event.deleted);
              if (!event.deleted) take(event.value);
            }
            return true;
          });
      if (end.created) {
        wait = kRewatchAfter;
      } else if (!end.error.empty()) {
        note_unreachable(end.error);
      }
    } catch (const EtcdError& e) {
      note_unreachable(e.what());
    }
    if (!pause(wait)) return;
  }
}

void SharedConfig::take(const EtcdValue& value) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (value.mod_revision == revision_ || value.mod_revision == rejected_revision_) return;
    if (text_ && *text_ == value.value) {  // this instance's own write coming back, or a put of the same text
      revision_ = value.mod_revision;
      metrics_.config_revision.store(revision_, std::memory_order_relaxed);
      return;
    }
  }
  if (apply_(value.value)) {
    taken(value.value, value.mod_revision);
    common::log_line("[etcd] applied revision " + std::to_string(value.mod_revision) + " of " + key_);
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  rejected_revision_ = value.mod_revision;  // the reload logged why, once
  metrics_.config_etcd_rejected.fetch_add(1, std::memory_order_relaxed);
}

void SharedConfig::taken(const std::string& text, int64_t revision) {
  std::lock_guard<std::mutex> lock(mutex_);
  text_ = text;
  revision_ = revision;
  metrics_.config_revision.store(revision, std::memory_order_relaxed);
}

std::string SharedConfig::write(const BackendChange& change) {
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    try {
      const EtcdRange range = client_.range(key_);
      note_reachable();
      if (!range.value) return "no config at " + key_ + " in etcd: the change holds on this instance only";
      std::optional<std::string> edited;
      try {
        edited = edit_config(range.value->value, change);
      } catch (const std::invalid_argument& e) {
        return "the config in etcd is not a JSON object: the change holds on this instance only";
      }
      if (!edited) return "";  // etcd says so already
      if (client_.compare_and_put(key_, *edited, range.value->mod_revision)) return "";
      metrics_.config_etcd_conflicts.fetch_add(1, std::memory_order_relaxed);  // changed meanwhile: edit it again
    } catch (const EtcdError& e) {
      note_unreachable(e.what());
      return std::string("etcd unreachable (") + e.what() + "): the change holds on this instance only";
    }
  }
  const std::string error = key_ + " kept changing: the change was not written after " +
                            std::to_string(kWriteAttempts) + " tries and holds on this instance only";
  common::log_line("[etcd] " + error);
  return error;
}

void SharedConfig::note_unreachable(const std::string& why) {
  metrics_.config_etcd_unreachable.fetch_add(1, std::memory_order_relaxed);
  if (!unreachable_.exchange(true)) {
    common::log_line("[etcd] unreachable: " + why + "; keeping the running configuration, retrying every second");
  }
}

void SharedConfig::note_reachable() {
  if (unreachable_.exchange(false)) common::log_line("[etcd] reachable again at " + url_);
}

void SharedConfig::note_absent(bool absent) {
  if (absent_.exchange(absent) == absent) return;
  common::log_line(absent ? "[etcd] no config at " + key_ + ": keeping the running configuration until one is put there"
                          : "[etcd] config at " + key_ + " found");
}

}  // namespace lb
