// State shared by every request handler of one backend_server process.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

namespace backend {

class BackendState {
 public:
  explicit BackendState(std::string id);

  // The server id shown in every response, e.g. "Server_on_Port_8001".
  const std::string& id() const { return id_; }

  // True while /health is forced to report failure (POST /health/fail).
  bool failing() const { return failing_.load(); }
  void set_failing(bool failing) { failing_.store(failing); }

  // Sleeps for `duration`, or less once begin_shutdown() is called, so a long
  // /slow request does not hold up Ctrl+C.
  void sleep_unless_stopping(std::chrono::milliseconds duration);

  // Wakes every sleeper; later sleeps return at once.
  void begin_shutdown();

 private:
  const std::string id_;
  std::atomic<bool> failing_{false};
  std::mutex mutex_;
  std::condition_variable stop_requested_;  // signalled by begin_shutdown()
  bool stopping_ = false;                   // guards: mutex_
};

}  // namespace backend
