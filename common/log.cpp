#include "common/log.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace common {

std::string utc_timestamp(std::chrono::system_clock::time_point when, bool millis) {
  using namespace std::chrono;
  const auto since_epoch = duration_cast<milliseconds>(when.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(since_epoch / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  if (millis) {
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(since_epoch % 1000));
  } else {
    std::snprintf(text + n, sizeof text - n, "Z");
  }
  return text;
}

void log_line(const std::string& line) {
  std::string out = utc_timestamp(std::chrono::system_clock::now()) + " " + line + "\n";
  // A single write keeps lines from concurrent threads whole.
  ssize_t ignored = ::write(STDERR_FILENO, out.data(), out.size());
  (void)ignored;
}

}  // namespace common
