#include "lb/upstream_pool.h"

namespace lb {

std::unique_ptr<Stream> UpstreamPool::acquire() {
  auto now = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<Stream>> dead;  // closed outside the lock
  std::unique_ptr<Stream> found;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!idle_.empty()) {
      Idle candidate = std::move(idle_.back());
      idle_.pop_back();
      if (now - candidate.since <= max_idle_time_ && candidate.connection->idle_and_open()) {
        found = std::move(candidate.connection);
        break;
      }
      dead.push_back(std::move(candidate.connection));
    }
  }
  return found;
}

void UpstreamPool::release(std::unique_ptr<Stream> connection) {
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

void UpstreamPool::clear() {
  std::vector<Idle> closing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing.swap(idle_);
  }
}

}  // namespace lb
