// Idle keep-alive connections to one backend, shared by all client threads.
//
// A request borrows a connection with acquire() and hands it back with
// release() only if the response left it reusable. The mutex is held just to
// push or pop; no I/O happens under it (the liveness check,
// Stream::idle_and_open, runs after the pop).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "lb/transport/stream.h"

namespace lb {

class IdleConnections {
 public:
  IdleConnections(std::size_t max_idle, std::chrono::milliseconds max_idle_time)
      : max_idle_time_(max_idle_time), max_idle_(max_idle) {}

  // A live idle connection, or nullptr when none is left (the caller connects).
  // Connections the backend has closed meanwhile, or idle too long, are dropped.
  std::unique_ptr<Stream> acquire();

  // Returns a connection whose last response ended cleanly with keep-alive.
  void release(std::unique_ptr<Stream> connection);

  // Closes every idle connection (backend went unhealthy or is being removed).
  void clear();
  // --upstream-keepalive changed (SIGHUP): keep at most `max_idle` from now on.
  void set_max_idle(std::size_t max_idle);

 private:
  struct Idle {
    std::unique_ptr<Stream> connection;
    std::chrono::steady_clock::time_point since;
  };
  const std::chrono::milliseconds max_idle_time_;
  mutable std::mutex mutex_;
  std::size_t max_idle_;    // guards: mutex_
  std::vector<Idle> idle_;  // guards: mutex_; most recently released at the back
};

}  // namespace lb
