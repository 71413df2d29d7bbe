#include "lb/operations/connection_registry.h"

#include <sys/eventfd.h>
#include <sys/socket.h>

namespace lb {

ConnectionRegistry::Slot::Slot(ConnectionRegistry& registry, int fd, int wake_fd)
    : registry_(registry), fd_(fd), wake_fd_(wake_fd) {
  std::lock_guard<std::mutex> lock(registry_.mutex_);
  registry_.slots_.insert(this);
}

ConnectionRegistry::Slot::~Slot() {
  std::lock_guard<std::mutex> lock(registry_.mutex_);
  registry_.slots_.erase(this);
}

bool ConnectionRegistry::Slot::enter_idle() {
  // Store, then check (both sequentially consistent); stop() sets the flag,
  // then looks at every slot. Whichever runs second sees the other's write, so
  // an idle connection is never missed.
  idle_.store(true);
  return !registry_.stopping_.load();
}

void ConnectionRegistry::stop() {
  stopping_.store(true);
  std::lock_guard<std::mutex> lock(mutex_);
  for (Slot* slot : slots_) {
    // shutdown(), not close(): the fd stays owned by its thread, whose blocked
    // read now returns end-of-file.
    if (slot->wake_fd_ >= 0) {
      ::eventfd_write(slot->wake_fd_, 1);
    } else if (slot->idle_.load()) {
      ::shutdown(slot->fd_, SHUT_RDWR);
    }
  }
}

std::size_t ConnectionRegistry::open_connections() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return slots_.size();
}

}  // namespace lb
