// An in-process fake backend on raw sockets that records every byte it
// receives, for tests that check exactly what the load balancer forwards (or
// that nothing was forwarded). It answers each request with `response`, once
// the request (head, and a Content-Length or chunked body) is all in.
//
//   test_support::RecordingBackend fake;   // answers "200 ok"
//   ... send through the load balancer at fake.url() ...
//   CHECK(fake.received().find("X-Forwarded-For: 127.0.0.1") != std::string::npos);
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace test_support {

class RecordingBackend {
 public:
  // `response`: the full bytes sent back for every request (default a 200 with body "ok").
  // `delay`: how long each (non-health) answer waits, to play a slow backend.
  // An empty `response` closes the connection after reading the request.
  explicit RecordingBackend(std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                            std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  ~RecordingBackend();
  RecordingBackend(const RecordingBackend&) = delete;
  RecordingBackend& operator=(const RecordingBackend&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // After answering a non-health request, echo every further byte on that
  // connection (plays a backend that switched protocols after a 101).
  void echo_after_response() { echo_after_response_ = true; }
  // After answering a non-health request, close the connection (with a
  // response that promises more body: plays a backend killed mid-response).
  void close_after_response() { close_after_response_ = true; }

  // Everything received so far except health checks (GET /health requests).
  std::string received() const;
  // Number of non-health requests seen.
  int requests() const;

 private:
  void accept_loop();
  void serve(int fd);
  void echo(int fd, const std::string& already);

  std::string response_;
  std::chrono::milliseconds delay_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> echo_after_response_{false};
  std::atomic<bool> close_after_response_{false};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::string received_;             // guards: mutex_
  int requests_ = 0;                 // guards: mutex_
  std::vector<std::thread> workers_;  // guards: mutex_
  std::vector<int> open_fds_;         // guards: mutex_
};

}  // namespace test_support
