#include "lb/acme/renewal_schedule.h"

#include <algorithm>
#include <ctime>

namespace lb::acme {

namespace {

constexpr std::chrono::seconds kFirstRetry{10};
constexpr std::chrono::seconds kLongestRetry{3600};
constexpr std::chrono::seconds kLongestServerWait{24 * 3600};

}  // namespace

SystemTime renewal_time(SystemTime not_before, SystemTime not_after) {
  if (not_after <= not_before) return not_before;  // nonsense dates: renew now
  return not_after - (not_after - not_before) / 3;
}

std::chrono::seconds retry_delay(int failures, std::chrono::seconds server_asked) {
  std::chrono::seconds backoff = kFirstRetry;
  for (int i = 1; i < failures && backoff < kLongestRetry; ++i) backoff *= 2;
  backoff = std::min(backoff, kLongestRetry);
  return std::max(backoff, std::min(server_asked, kLongestServerWait));
}

std::string utc_text(SystemTime time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace lb::acme
