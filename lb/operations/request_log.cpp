#include "lb/operations/request_log.h"

#include <algorithm>

#include "common/log.h"

namespace lb {

nlohmann::json request_json(const RequestRecord& record) {
  return {
      {"id", record.sequence},
      {"time", common::utc_timestamp(record.time, /*millis=*/true)},
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
