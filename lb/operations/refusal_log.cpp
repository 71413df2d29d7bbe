#include "lb/operations/refusal_log.h"

#include "common/log.h"

namespace lb {

bool RefusalLog::note(const std::string& address, const std::string& what, const std::string& why,
                      std::chrono::steady_clock::time_point now) {
  counter_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (last_logged_.size() >= kMaxAddresses) last_logged_.clear();
    auto [last, first_time] = last_logged_.try_emplace(address, now);
    if (!first_time && now - last->second < std::chrono::minutes(1)) return false;
    last->second = now;
  }
  common::log_line("[Proxy] " + what + " from " + address + ": " + why + "; connection closed");
  return true;
}

}  // namespace lb
