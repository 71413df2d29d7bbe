// One-line, thread-safe log output to stderr.
//
// Every line is written with a single write() so lines from different
// connection threads never interleave.
#pragma once

#include <string>

namespace common {

// Writes `line` plus a newline to stderr, prefixed with a UTC timestamp.
void log_line(const std::string& line);

}  // namespace common
