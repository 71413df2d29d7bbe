#include "lb/operations/access_log.h"

#include <cstring>
#include <ctime>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace lb {

namespace {

constexpr size_t kMaxPending = 8 * 1024 * 1024;  // beyond this the disk is hopelessly behind

// Quotes a value for the combined format ("-" when empty), escaping " and \.
std::string quoted(const std::string& value) {
  if (value.empty()) return "\"-\"";
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", seconds);
  return text;
}

}  // namespace

std::string access_log_time() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[40];
  std::strftime(text, sizeof text, "%d/%b/%Y:%H:%M:%S +0000", &utc);
  return text;
}

std::string format_access_line(const AccessRecord& r, AccessLogFormat format) {
  if (format == AccessLogFormat::Json) {
    nlohmann::json line{{"time", r.time},
                          {"client", r.client},
                          {"request", r.request_line},
                          {"status", r.status},
                          {"bytes", r.bytes},
                          {"referer", r.referer},
                          {"user_agent", r.user_agent},
                          {"backend", r.backend},
                          {"duration", r.seconds},
                          {"upstream_duration", r.upstream_seconds},
                          {"tried", r.tried},
                          {"pool", r.pool}};
    if (!r.request_id.empty()) line["request_id"] = r.request_id;
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return r.client + " - - [" + r.time + "] " + quoted(r.request_line) + " " + std::to_string(r.status) + " " +
         std::to_string(r.bytes) + " " + quoted(r.referer) + " " + quoted(r.user_agent) +
         " backend=" + (r.backend.empty() ? "-" : r.backend) + " rt=" + seconds_text(r.seconds) +
         " urt=" + seconds_text(r.upstream_seconds) + " pool=" + (r.pool.empty() ? "-" : r.pool) +
         (r.tried.empty() ? "" : " tried=" + quoted(r.tried)) +
         (r.request_id.empty() ? "" : " request_id=" + quoted(r.request_id));
}

AccessLog::AccessLog(const std::string& path, AccessLogFormat format)
    : format_(format), out_(path == "-" ? stdout : std::fopen(path.c_str(), "a")), owns_file_(path != "-") {
  if (!out_) throw std::runtime_error("--access-log: cannot open " + path + ": " + std::strerror(errno));
  writer_ = std::thread([this] { writer_loop(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
  if (owns_file_) std::fclose(out_);
}

void AccessLog::write(const AccessRecord& record) {
  std::string line = format_access_line(record, format_) + "\n";  // formatted outside the lock
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_.size() + line.size() > kMaxPending) {
      ++dropped_;
      return;
    }
    pending_ += line;
  }
  wake_.notify_one();
}

uint64_t AccessLog::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

void AccessLog::writer_loop() {
  std::string batch;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    batch.swap(pending_);
    bool stop = stopping_;
    lock.unlock();
    if (!batch.empty()) {
      std::fwrite(batch.data(), 1, batch.size(), out_);
      std::fflush(out_);
      batch.clear();
    }
    lock.lock();
    if (stop && pending_.empty()) return;
  }
}

}  // namespace lb
