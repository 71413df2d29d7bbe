// An in-process fake backend on raw sockets that answers every request with
// the exact bytes of that request's head, so a client can tell from the answer
// alone which request it belongs to (cross-talk tests).
//
//   test_support::EchoBackend echo;
//   LoadBalancerProcess lb({echo.url()});
//   RawResponse res = http_request(lb.port(), build_request("GET", "/mine"));
//   CHECK(res.body.rfind("GET /mine HTTP/1.1\r\n", 0) == 0);
//
// Its parsing is strict and its framing deliberately simple, like cpp-httplib
// and many real servers:
// - `GET /health` gets 200 "ok" (not counted);
// - a request body (Content-Length or chunked) is read only for POST, PUT and
//   PATCH; on any other method the framing headers are ignored and whatever
//   follows the head is read as the next request;
// - every other request gets 200 with Content-Length framing and the request
//   head (request line through the blank line) as the body (no body for HEAD);
// - `Connection: close` (or HTTP/1.0 without keep-alive) closes after the answer;
// - bytes it cannot parse get 400 with a body naming what it saw, then a close.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace test_support {

class EchoBackend {
 public:
  EchoBackend();
  ~EchoBackend();
  EchoBackend(const EchoBackend&) = delete;
  EchoBackend& operator=(const EchoBackend&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Requests answered with 200 and their head, health checks not counted.
  int requests() const;
  // Requests answered with 400 (could not be parsed).
  int rejected() const;

 private:
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  void accept_loop();
  void serve(int fd);
  void reap_finished_workers();

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  int requests_ = 0;             // guards: mutex_
  int rejected_ = 0;             // guards: mutex_
  std::vector<Worker> workers_;  // guards: mutex_
  std::vector<int> open_fds_;    // guards: mutex_
};

}  // namespace test_support
