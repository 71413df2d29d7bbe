// --access-log FILE|- : one line per request, in nginx's "combined" format
// (plus backend and timings) or as JSON.
//
// Connection threads only format a line and append it to a buffer under a
// short lock; a background thread does the writing, so one slow disk write
// never holds up requests. If the disk cannot keep up, lines beyond a bounded
// buffer are dropped and counted rather than growing memory without limit.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace lb {

struct AccessRecord {
  std::string client;       // client address
  std::string time;         // request start, "24/Nov/2026:09:33:13 +0000"
  std::string request_line; // "GET /path?q HTTP/1.1"
  int status = 0;
  uint64_t bytes = 0;       // response body bytes sent
  std::string referer;      // "" when absent
  std::string user_agent;
  std::string backend;      // URL of the backend that answered, "" when none
  std::string pool;         // the pool the request was routed to, "" when none (404)
  double seconds = 0;       // whole request, head read to last byte sent
  double upstream_seconds = 0;  // time spent with the backend
  std::string tried;            // backends that failed first: "URL (timeout), ..." ("" when none)
  std::string request_id;       // --request-id-header's value, "" when off
};

enum class AccessLogFormat { Combined, Json };

// One line, without the newline. Pure: unit-tested.
std::string format_access_line(const AccessRecord& record, AccessLogFormat format);

// The current time in the combined log format's bracketed style.
std::string access_log_time();

class AccessLog {
 public:
  // `path` "-" means stdout. Throws std::runtime_error if the file cannot be opened.
  AccessLog(const std::string& path, AccessLogFormat format);
  ~AccessLog();  // writes what is queued, then stops the writer thread
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void write(const AccessRecord& record);
  uint64_t dropped() const;

 private:
  void writer_loop();

  const AccessLogFormat format_;
  std::FILE* out_;
  bool owns_file_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::string pending_;   // guards: mutex_; lines not yet written
  bool stopping_ = false; // guards: mutex_
  uint64_t dropped_ = 0;  // guards: mutex_
  std::thread writer_;
};

}  // namespace lb
