// One-line, thread-safe log output to stderr.
//
// Every line is written with a single write() so lines from different
// connection threads never interleave.
#pragma once

#include <chrono>
#include <string>

namespace common {

// ISO 8601 in UTC, "2026-12-01T19:09:22Z", or with `millis` "2026-12-01T19:09:22.123Z".
std::string utc_timestamp(std::chrono::system_clock::time_point when, bool millis = false);

// Writes `line` plus a newline to stderr, prefixed with a UTC timestamp.
void log_line(const std::string& line);

}  // namespace common
