#include "lb/balancing/pool_queue.h"

#include <algorithm>
#include <optional>

namespace lb {

PoolQueue::Admission PoolQueue::admit(const TryTake& try_take, const Accepts& accepts, const QueueSettings& settings,
                                      const std::function<bool()>& client_gone) {
  std::unique_lock<std::mutex> lock(mutex_);
  const Clock::time_point arrived = Clock::now();
  if (waiters_.empty()) {
    bool any_eligible = false;
    if (std::shared_ptr<Backend> backend = try_take(any_eligible)) return {QueueOutcome::Placed, backend, {}};
    if (!any_eligible) return {QueueOutcome::NoBackend, nullptr, {}};
  }
  if (refuse_newcomer(settings, arrived)) return {QueueOutcome::Full, nullptr, {}};
  Waiter waiter{&accepts, arrived, nullptr, {}};
  if (waiters_.empty()) nonempty_since_ = arrived;
  waiters_.push_back(&waiter);
  length_.store(waiters_.size(), std::memory_order_relaxed);
  const Clock::time_point deadline = arrived + settings.timeout;
  auto placed = [&] { return Admission{QueueOutcome::Placed, waiter.granted, Clock::now() - arrived}; };
  for (;;) {
    const auto look_after = waiters_.front() == &waiter ? kFirstLooksEvery : kLookEvery;
    waiter.wake.wait_until(lock, std::min(deadline, Clock::now() + look_after), [&] { return waiter.granted != nullptr; });
    if (waiter.granted) return placed();  // the giver took it out of the queue
    std::optional<QueueOutcome> refused;
    if (Clock::now() >= deadline) {
      refused = QueueOutcome::TimedOut;
    } else if (waiters_.front() == &waiter) {
      // A place may be free without having been handed over: a limit was
      // raised, or a place taken before the pool had limits was given back.
      bool any_eligible = false;
      if (std::shared_ptr<Backend> backend = try_take(any_eligible)) {
        waiter.granted = std::move(backend);
        leave(waiter);
        return placed();
      }
      if (!any_eligible) refused = QueueOutcome::NoBackend;
    }
    if (!refused) {  // still waiting: has the client gone? (not under the lock: a syscall)
      lock.unlock();
      const bool gone = client_gone();
      lock.lock();
      if (waiter.granted) return placed();
      if (gone) refused = QueueOutcome::ClientGone;
    }
    if (refused) {
      leave(waiter);
      return {*refused, nullptr, Clock::now() - arrived};
    }
  }
}

void PoolQueue::give_back(const std::shared_ptr<Backend>& backend) {
  std::lock_guard<std::mutex> lock(mutex_);
  const int limit = backend->max_requests();
  // Hand the place over only while the backend is within its limit (an auto limit may have shrunk).
  if (limit == 0 || backend->active_requests.load(std::memory_order_relaxed) <= limit) {
    for (Waiter* waiter : waiters_) {
      if (!(*waiter->accepts)(*backend)) continue;
      waiter->granted = backend;
      backend->requests_total.fetch_add(1, std::memory_order_relaxed);
      leave(*waiter);
      waiter->wake.notify_one();
      return;
    }
  }
  backend->active_requests.fetch_sub(1, std::memory_order_relaxed);
}

bool PoolQueue::refuse_newcomer(const QueueSettings& settings, Clock::time_point now) const {
  if (waiters_.size() >= settings.size) return true;
  if (waiters_.empty() || now - nonempty_since_ < kStandingAfter) return false;
  return now - waiters_.front()->arrived > kStandingWait;
}

void PoolQueue::leave(Waiter& waiter) {
  waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &waiter));
  length_.store(waiters_.size(), std::memory_order_relaxed);
}

void BackendPlace::release() {
  if (!backend_) return;
  if (queue_) {
    queue_->give_back(backend_);
  } else {
    backend_->active_requests.fetch_sub(1, std::memory_order_relaxed);
  }
  backend_.reset();
  queue_.reset();
}

}  // namespace lb
