#include "lb/upstream_pool.h"

#include <sys/socket.h>

#include <cerrno>

namespace lb {

namespace {

// An idle HTTP connection must have nothing to read: a readable EOF means the
// backend closed it (for example after its keepalive_requests), and unexpected
// bytes mean it is out of sync. Either way it must not carry a request.
bool still_open(const Stream& connection) {
  char byte;
  ssize_t n = ::recv(connection.fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

std::unique_ptr<Stream> UpstreamPool::acquire() {
  auto now = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<Stream>> dead;  // closed outside the lock
  std::unique_ptr<Stream> found;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!idle_.empty()) {
      Idle candidate = std::move(idle_.back());
      idle_.pop_back();
      if (now - candidate.since <= max_idle_time_ && still_open(*candidate.connection)) {
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
