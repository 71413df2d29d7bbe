// Connections closed without an answer (a bad or unexpected PROXY header):
// counted for /metrics, and logged at most once a minute per address, so a
// misconfigured balancer or a scanner cannot flood the log.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace lb {

class RefusalLog {
 public:
  // `counter`: the metric each refusal adds one to.
  explicit RefusalLog(std::atomic<uint64_t>& counter) : counter_(counter) {}

  // Counts one refusal from `address` and logs "[Proxy] <what> from <address>: <why>"
  // unless that address was logged in the last minute. Returns whether it logged.
  bool note(const std::string& address, const std::string& what, const std::string& why,
            std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

 private:
  static constexpr std::size_t kMaxAddresses = 10000;  // then the table starts over
  std::atomic<uint64_t>& counter_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> last_logged_;  // guards: mutex_
};

}  // namespace lb
