// The requests of one pool waiting for a place on its backends (--max-requests;
// README "Queues and overload"), and the place a request holds while it is
// in flight.
//
// A request that finds every eligible backend at its limit waits here in its
// own thread, first come first served. A place given back goes straight to
// the first waiter that may use that backend, so a newcomer never overtakes
// the queue. A waiter leaves with a place, or after --queue-timeout, or when
// its client has gone; a newcomer is refused at once when --queue-size wait
// already. Like CoDel, the queue tells a burst from overload by how long
// requests wait in it: a queue that has not emptied for kStandingAfter and
// whose oldest waiter has waited longer than kStandingWait is overload, and
// then a newcomer (who would wait at least as long) is refused at once, so
// that what is served stays fast and the excess is refused fast.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "lb/balancing/backend.h"

namespace lb {

struct QueueSettings {
  std::chrono::milliseconds timeout{2000};  // --queue-timeout
  size_t size = 1000;                       // --queue-size
};

enum class QueueOutcome { Placed, NoBackend, Full, TimedOut, ClientGone };

class PoolQueue {
 public:
  using Clock = std::chrono::steady_clock;
  // How often a waiter wakes by itself: to see whether its client has gone,
  // and, first in line, whether a place is free that was not handed over.
  static constexpr std::chrono::milliseconds kLookEvery{200};
  static constexpr std::chrono::milliseconds kFirstLooksEvery{20};
  static constexpr std::chrono::seconds kStandingAfter{1};
  static constexpr std::chrono::milliseconds kStandingWait{200};

  // Takes a place on a backend with room, or returns nullptr; `any_eligible`
  // then says whether some backend could take the request once a place frees.
  using TryTake = std::function<std::shared_ptr<Backend>(bool& any_eligible)>;
  // Whether this waiter may use a place on `backend` (healthy, not tried yet, ...).
  using Accepts = std::function<bool(const Backend&)>;
  struct Admission {
    QueueOutcome outcome = QueueOutcome::NoBackend;
    std::shared_ptr<Backend> backend;  // Placed: its place is counted in its active_requests
    Clock::duration waited{};          // time spent in the queue (zero when placed at once)
  };

  Admission admit(const TryTake& try_take, const Accepts& accepts, const QueueSettings& settings,
                  const std::function<bool()>& client_gone);
  // A place on `backend` ends: it goes to the first waiter that accepts it,
  // or the backend's in-flight count drops.
  void give_back(const std::shared_ptr<Backend>& backend);
  size_t length() const { return length_.load(std::memory_order_relaxed); }

 private:
  struct Waiter {
    const Accepts* accepts;
    Clock::time_point arrived;
    std::shared_ptr<Backend> granted;  // guards: mutex_
    std::condition_variable wake;
  };
  bool refuse_newcomer(const QueueSettings& settings, Clock::time_point now) const;  // caller holds mutex_
  void leave(Waiter& waiter);                                                       // caller holds mutex_

  std::mutex mutex_;
  std::deque<Waiter*> waiters_;           // guards: mutex_; oldest first
  Clock::time_point nonempty_since_{};    // guards: mutex_; when waiters_ last stopped being empty
  std::atomic<size_t> length_{0};         // waiters_.size(), for /status and /metrics
};

// The place one request holds on a backend while it is in flight: counted in
// the backend's active_requests from the moment it is taken until this is
// destroyed or released (then given back through the pool's queue, if the
// pool has limits), so the selectors never see a leaked count, whatever path
// the request takes.
class BackendPlace {
 public:
  BackendPlace() = default;
  // A place already counted on `backend`.
  BackendPlace(std::shared_ptr<Backend> backend, std::shared_ptr<PoolQueue> queue)
      : backend_(std::move(backend)), queue_(std::move(queue)) {}
  // Takes a place on `backend` whatever its limit (a pool without limits).
  static BackendPlace take(std::shared_ptr<Backend> backend) {
    backend->take_place();
    return BackendPlace(std::move(backend), nullptr);
  }
  BackendPlace(BackendPlace&& other) noexcept = default;
  BackendPlace& operator=(BackendPlace&& other) noexcept {
    release();
    backend_ = std::move(other.backend_);
    queue_ = std::move(other.queue_);
    return *this;
  }
  ~BackendPlace() { release(); }
  void release();
  const std::shared_ptr<Backend>& backend() const { return backend_; }

 private:
  std::shared_ptr<Backend> backend_;
  std::shared_ptr<PoolQueue> queue_;  // nullptr: the pool has no limits
};

}  // namespace lb
