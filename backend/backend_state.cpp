#include "backend/backend_state.h"

#include <utility>

namespace backend {

BackendState::BackendState(std::string id) : id_(std::move(id)) {}

void BackendState::sleep_unless_stopping(std::chrono::milliseconds duration) {
  std::unique_lock<std::mutex> lock(mutex_);
  stop_requested_.wait_for(lock, duration, [this] { return stopping_; });
}

void BackendState::begin_shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_requested_.notify_all();
}

}  // namespace backend
