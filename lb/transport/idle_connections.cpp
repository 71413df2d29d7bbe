#include "lb/transport/idle_connections.h"

namespace lb {

std::unique_ptr<Stream> IdleConnections::acquire() {
  const auto now = std::chrono::steady_clock::now();
  for (;;) {
    Idle candidate;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (idle_.empty()) return nullptr;
      candidate = std::move(idle_.back());
      idle_.pop_back();
    }
    // Checked outside the lock: it is a syscall (for TLS, maybe a record read).
    if (now - candidate.since <= max_idle_time_ && candidate.connection->idle_and_open()) {
      return std::move(candidate.connection);
    }
    // Closed by the backend, out of sync or idle too long: closed here, try the next.
  }
}

void IdleConnections::release(std::unique_ptr<Stream> connection) {
  std::unique_ptr<Stream> evicted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (idle_.size() >= max_idle_) {
      if (max_idle_ == 0) return;  // pooling disabled: `connection` closes on return
      evicted = std::move(idle_.front().connection);  // drop the oldest
      idle_.erase(idle_.begin());
    }
    idle_.push_back(Idle{std::move(connection), std::chrono::steady_clock::now()});
  }
}

void IdleConnections::clear() {
  std::vector<Idle> closing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing.swap(idle_);
  }
}

void IdleConnections::set_max_idle(std::size_t max_idle) {
  std::vector<Idle> closing;  // closed outside the lock
  {
    std::lock_guard<std::mutex> lock(mutex_);
    max_idle_ = max_idle;
    while (idle_.size() > max_idle_) {
      closing.push_back(std::move(idle_.front()));  // the oldest go first
      idle_.erase(idle_.begin());
    }
  }
}

}  // namespace lb
