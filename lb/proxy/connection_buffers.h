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
#include <memory>

namespace lb {

class ConnectionBuffers {
 public:
  static constexpr size_t kBufferBytes = 16 * 1024;

  // Gives the buffers back to the thread that serves connections, not to the
  // system: each thread keeps one spare set for its next connection.
  struct KeepForThisThread {
    void operator()(ConnectionBuffers* buffers) const;
  };
  using Handle = std::unique_ptr<ConnectionBuffers, KeepForThisThread>;

  // The spare set the calling thread's last connection left, or a new mapping.
  // Connection threads are pooled, so a new connection usually maps nothing:
  // no mmap/munmap (whose TLB shootdowns interrupt the other CPUs), no fresh
  // page faults. The spare is unmapped when its thread exits. The bytes of
  // the last connection stay in it, as in any reused buffer: a connection
  // only ever reads the range it has itself filled.
  static Handle for_connection();

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
