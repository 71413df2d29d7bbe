#include "lb/connection_registry.h"

#include <sys/socket.h>

namespace lb {

void ConnectionRegistry::add(int fd) {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_by_fd_[fd] = false;
}

void ConnectionRegistry::remove(int fd) {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_by_fd_.erase(fd);
}

bool ConnectionRegistry::enter_idle(int fd) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_) return false;
  idle_by_fd_[fd] = true;
  return true;
}

void ConnectionRegistry::enter_busy(int fd) {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_by_fd_[fd] = false;
}

void ConnectionRegistry::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stopping_ = true;
  for (auto& [fd, idle] : idle_by_fd_) {
    // shutdown(), not close(): the fd stays owned by its thread, whose blocked
    // read now returns end-of-file.
    if (idle) ::shutdown(fd, SHUT_RDWR);
  }
}

bool ConnectionRegistry::stopping() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

std::size_t ConnectionRegistry::open_connections() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return idle_by_fd_.size();
}

}  // namespace lb
