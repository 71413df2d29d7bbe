// An in-process backend that answers every request (but GET /health) with a
// large text/plain body streamed from one 64 KiB block, never held whole:
// for the tests that a compressed 1 GB response takes bounded memory in the
// load balancer (test/integration/compression_test.cpp).
//
//   test_support::TextStreamBackend backend(1000 * 1000 * 1000);
//   ... curl through a load balancer at backend.url() ...
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace test_support {

class TextStreamBackend {
 public:
  // `body_bytes`: the length of every answer (sent with Content-Length).
  explicit TextStreamBackend(uint64_t body_bytes);
  ~TextStreamBackend();
  TextStreamBackend(const TextStreamBackend&) = delete;
  TextStreamBackend& operator=(const TextStreamBackend&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The body every answer carries, the first `bytes` of it (to compare with).
  static std::string body_prefix(size_t bytes);

 private:
  void accept_loop();
  void serve(int fd);

  const uint64_t body_bytes_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> open_fds_;         // guards: mutex_
  std::vector<std::thread> workers_;  // guards: mutex_
};

}  // namespace test_support
