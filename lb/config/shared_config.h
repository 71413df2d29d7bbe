// --config-etcd (README "One configuration in etcd"): the JSON config lives
// in one etcd key that every instance applies, at start and at each change,
// and that admin backend changes are written to, so instances on the same key
// converge.
//
// Start: the key's config, if etcd answers and it is valid; else the flags,
// if they name backends; else it waits (retrying each second) before
// listening. Then a thread watches the key (a range first, then a watch from
// the revision after it; again after every break) and hands each new revision
// to `apply`, the same path a SIGHUP takes. A rejected revision is counted
// and not tried again; the running configuration stays. etcd not answering
// is logged once when it starts and once when it ends, and counted.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "lb/config/etcd_client.h"
#include "lb/config/options.h"
#include "lb/operations/backend_change.h"
#include "lb/operations/metrics.h"

namespace lb {

class SharedConfig {
 public:
  // Runs a config text as a reload; true when applied (it logs a rejection).
  using Apply = std::function<bool(const std::string& config_text)>;

  SharedConfig(std::string url, std::string key, Metrics& metrics);
  ~SharedConfig();

  // The options to start with (`flags`: argv parsed without a config). Blocks
  // while etcd has nothing usable and the flags name no backends. With
  // --check, asks once and throws OptionsError if that is not enough.
  Options starting_options(int argc, const char* const* argv, Options flags);
  // Watches the key from now on, applying its changes with `apply`.
  void start(Apply apply);
  void stop();

  // The config text running now, if it came from etcd (a SIGHUP applies it again).
  std::optional<std::string> current_text() const;
  // For the admin server: write() and status().
  SharedConfigHooks hooks();

 private:
  void watch_loop();
  // A version of the key seen: applied unless it is the running one or was rejected.
  void take(const EtcdValue& value);
  void taken(const std::string& text, int64_t revision);
  std::string write(const BackendChange& change);
  void note_unreachable(const std::string& why);
  void note_reachable();
  void note_absent(bool absent);
  // Sleeps up to `pause`; false once stop() was called.
  bool pause(std::chrono::milliseconds pause);

  const std::string url_;
  const std::string key_;
  Metrics& metrics_;
  EtcdClient client_;
  Apply apply_;  // set by start(), before the thread

  mutable std::mutex mutex_;
  std::optional<std::string> text_;  // guards: mutex_; the config applied last
  int64_t revision_ = 0;             // guards: mutex_; its mod_revision
  int64_t rejected_revision_ = 0;    // guards: mutex_; the last one refused (not tried again)
  std::atomic<bool> unreachable_{false};  // logged when it flips
  std::atomic<bool> absent_{false};       // logged when it flips

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};  // set under wake_mutex_, so pause() cannot miss it
  std::atomic<bool> finished_{true};  // the watch thread has returned
  std::thread thread_;
};

}  // namespace lb
