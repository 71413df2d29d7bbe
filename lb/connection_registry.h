// Which client connections are open, and which of them sit idle between
// requests, so a graceful stop can close the idle ones at once and let busy
// ones finish their current request.
#pragma once

#include <cstddef>
#include <mutex>
#include <unordered_map>

namespace lb {

class ConnectionRegistry {
 public:
  void add(int fd);
  void remove(int fd);

  // The connection is about to wait for its next request. Returns false when
  // the server is stopping: the caller closes instead of waiting.
  bool enter_idle(int fd);
  // The first byte of a request arrived: a stop now lets this request finish.
  void enter_busy(int fd);

  // Stops: from now on enter_idle() says no, and idle connections are shut
  // down so their threads wake up and exit.
  void stop();
  bool stopping() const;
  std::size_t open_connections() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<int, bool> idle_by_fd_;  // guards: mutex_; fd -> waiting between requests
  bool stopping_ = false;                     // guards: mutex_
};

}  // namespace lb
