// When to ask the ACME server again: pure functions of the certificate and
// the failures so far, so they are tested without waiting.
#pragma once

#include <chrono>
#include <string>

namespace lb::acme {

using SystemTime = std::chrono::system_clock::time_point;

// A third of the lifetime before the end (Let's Encrypt's 90 days: day 60),
// as README "Automatic HTTPS" says.
SystemTime renewal_time(SystemTime not_before, SystemTime not_after);

// After `failures` failed attempts in a row (1 or more): 10 s, doubling, at
// most an hour; longer when the server asked for longer (Retry-After, at
// most a day).
std::chrono::seconds retry_delay(int failures, std::chrono::seconds server_asked);

// RFC 3339 in UTC, as the log, /status and the dashboard show times: "2026-12-03T21:49:27Z".
std::string utc_text(SystemTime time);

}  // namespace lb::acme
