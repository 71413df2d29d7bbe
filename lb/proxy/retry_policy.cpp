#include "lb/proxy/retry_policy.h"

namespace lb {

bool is_idempotent(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    if (method == m) return true;
  }
  return false;
}

std::chrono::milliseconds jittered_try_timeout(std::chrono::milliseconds try_timeout, double unit_random) {
  const double share = 0.75 + 0.25 * unit_random;
  return std::chrono::milliseconds(static_cast<long>(static_cast<double>(try_timeout.count()) * share));
}

}  // namespace lb
