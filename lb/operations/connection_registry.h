// Which client connections are open, and which of them sit idle between
// requests, so a graceful stop can close the idle ones at once and let busy
// ones finish their current request.
//
// Each connection registers once; moving between idle and busy is a single
// atomic store on the connection's own slot, so the per-request path takes no
// shared lock. The mutex guards only the set of slots (connect and close).
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <unordered_set>

namespace lb {

class ConnectionRegistry {
 public:
  // One connection's entry; lives as long as the connection.
  class Slot {
   public:
    // `wake_fd`: an eventfd the connection polls (HTTP/2). stop() wakes such a
    // connection through it, busy or idle, so it can say GOAWAY on a socket
    // that still works; other connections' idle sockets are shut down.
    Slot(ConnectionRegistry& registry, int fd, int wake_fd = -1);
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    // About to wait for the next request. False when the server is stopping:
    // the caller closes instead of waiting.
    bool enter_idle();
    // The first byte of a request arrived: a stop now lets this request finish.
    void enter_busy() { idle_.store(false); }

   private:
    friend class ConnectionRegistry;
    ConnectionRegistry& registry_;
    const int fd_;
    const int wake_fd_;
    std::atomic<bool> idle_{false};
  };

  // One HTTP/2 stream being served (lb_open_streams), while it lives. Its
  // connection has a Slot; a stream only counts.
  class OpenStream {
   public:
    explicit OpenStream(ConnectionRegistry& registry) : registry_(registry) {
      registry_.open_streams_.fetch_add(1, std::memory_order_relaxed);
    }
    ~OpenStream() { registry_.open_streams_.fetch_sub(1, std::memory_order_relaxed); }
    OpenStream(const OpenStream&) = delete;
    OpenStream& operator=(const OpenStream&) = delete;

   private:
    ConnectionRegistry& registry_;
  };

  // From now on enter_idle() says no, idle connections are shut down so their
  // threads wake up and exit, and connections with a wake_fd are woken.
  void stop();
  bool stopping() const { return stopping_.load(); }
  std::size_t open_connections() const;
  std::size_t open_streams() const { return open_streams_.load(std::memory_order_relaxed); }

 private:
  mutable std::mutex mutex_;
  std::unordered_set<Slot*> slots_;  // guards: mutex_
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> open_streams_{0};
};

}  // namespace lb
