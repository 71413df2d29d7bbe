// The two byte buffers of one client connection: bytes from the client and
// bytes from the backend, 16 KB each.
//
// They live in their own page-aligned mapping rather than inside the
// connection object, so a connection that has gone quiet can give their pages
// back to the system (release_pages) and keep only its thread's stack and a
// few small objects: 10,000 idle keep-alive connections then cost about
// 14 KB each instead of 23 KB (scripts/bench.sh, idle-connection test).
#pragma once

#include <cstddef>

namespace lb {

class ConnectionBuffers {
 public:
  static constexpr size_t kBufferBytes = 16 * 1024;

  ConnectionBuffers();  // throws std::bad_alloc when the mapping fails
  ~ConnectionBuffers();
  ConnectionBuffers(const ConnectionBuffers&) = delete;
  ConnectionBuffers& operator=(const ConnectionBuffers&) = delete;

  char* client() { return base_; }
  char* upstream() { return base_ + kBufferBytes; }

  // Returns the pages to the system now (RSS drops at once); the next byte
  // written maps a fresh zero page. Call only while both buffers are empty.
  void release_pages();

 private:
  char* base_;
};

}  // namespace lb
