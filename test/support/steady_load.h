// A steady stream of GET requests for tests that change something under load
// (an upgrade, a DNS change) and must show that no request failed.
//
// Two client threads: one opens a new connection per request
// (Connection: close), one keeps its connection alive. Like browsers and
// curl, the keep-alive one sends a GET again on a new connection when the
// server closed a reused connection before any byte of the answer (the race
// every HTTP/1.1 server has when it closes an idle connection); that is
// counted as `resent`, not as a failure. Anything else is a failure: an
// error, a timeout, a status other than 200, a response cut short.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace test_support {

class SteadyLoad {
 public:
  explicit SteadyLoad(int port, std::string target = "/");
  ~SteadyLoad();  // stop()

  void stop();  // joins the threads; safe more than once
  long succeeded() const { return succeeded_.load(); }
  long resent() const { return resent_.load(); }
  std::vector<std::string> failures() const;  // what went wrong, one line each

 private:
  void new_connection_loop();
  void keep_alive_loop();
  void fail(const std::string& what);

  const int port_;
  const std::string target_;
  std::atomic<bool> stopping_{false};
  std::atomic<long> succeeded_{0};
  std::atomic<long> resent_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> failures_;  // guards: mutex_
  std::vector<std::thread> threads_;
};

}  // namespace test_support
