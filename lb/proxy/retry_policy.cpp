#include "lb/proxy/retry_policy.h"

#include <algorithm>

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

std::chrono::milliseconds all_tries_timeout(std::chrono::milliseconds backend_timeout,
                                            std::chrono::milliseconds try_timeout, int retries) {
  if (try_timeout < backend_timeout) return backend_timeout;
  return backend_timeout * (1 + std::max(retries, 0));
}

}  // namespace lb
