#include "lb/operations/request_log.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace lb {

namespace {

// "2026-12-01T19:09:22.123Z"
std::string iso8601_millis(std::chrono::system_clock::time_point when) {
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(millis % 1000));
  return text;
}

}  // namespace

nlohmann::json request_json(const RequestRecord& record) {
  return {
      {"id", record.sequence},
      {"time", iso8601_millis(record.time)},
      {"client", record.client},
      {"method", record.method},
      {"target", record.target},
      {"status", record.status},
      {"pool", record.pool},
      {"backend", record.backend},
      {"duration_ms", record.duration_ms},
      {"request_id", record.request_id},
      {"trace", record.trace},
  };
}

void RequestLog::add(RequestRecord record) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    record.sequence = ++last_;
    ring_[last_ % kCapacity] = std::move(record);
  }
  added_.notify_all();
}

std::vector<RequestRecord> RequestLog::newest_first(uint64_t after) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<RequestRecord> out;
  const uint64_t held = std::min<uint64_t>(last_ - std::min(after, last_), kCapacity);
  out.reserve(held);
  for (uint64_t i = 0; i < held; ++i) out.push_back(ring_[(last_ - i) % kCapacity]);
  return out;
}

std::vector<RequestRecord> RequestLog::wait_after(uint64_t sequence, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  added_.wait_for(lock, timeout, [&] { return stopped_ || last_ > sequence; });
  std::vector<RequestRecord> out;
  if (stopped_ || last_ <= sequence) return out;
  const uint64_t oldest_held = last_ > kCapacity ? last_ - kCapacity + 1 : 1;
  for (uint64_t s = std::max(sequence + 1, oldest_held); s <= last_; ++s) out.push_back(ring_[s % kCapacity]);
  return out;
}

uint64_t RequestLog::last_sequence() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_;
}

void RequestLog::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
  }
  added_.notify_all();
}

bool RequestLog::stopped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopped_;
}

}  // namespace lb
