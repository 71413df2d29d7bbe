// A retry budget, as Envoy has: retries in flight at most PERCENT of the
// requests in flight (with a floor, so a quiet load balancer can still retry),
// so that a wide outage is not multiplied by retries. Over the budget a request
// fails as it would have without retries.
//
// Failures come in bursts (a backend killed or frozen fails every request it
// holds in the same millisecond), while a retry on a healthy backend takes
// about a millisecond: so a retry over the budget may wait a little for a
// place (`patience`) before it gives up. In a wide outage places free up only
// as slowly as retries time out, and the waiters fail: the cap holds.
//
// Lock-free on the way through: two counters changed with atomics; the
// mutex and condition variable are used only while someone waits for a place.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace lb {

class RetryBudget {
 public:
  // `percent` 0-100 of active requests; `floor`: retries always allowed at once.
  explicit RetryBudget(int percent = 20, int floor = 3) : percent_(percent), floor_(floor) {}
  RetryBudget(const RetryBudget&) = delete;
  RetryBudget& operator=(const RetryBudget&) = delete;

  // A client request being handled, for its whole life (retries included).
  class ActiveRequest {
   public:
    explicit ActiveRequest(RetryBudget& budget) : budget_(budget) { budget_.active_.fetch_add(1, kRelaxed); }
    ~ActiveRequest() { budget_.active_.fetch_sub(1, kRelaxed); }
    ActiveRequest(const ActiveRequest&) = delete;
    ActiveRequest& operator=(const ActiveRequest&) = delete;

   private:
    RetryBudget& budget_;
  };

  // One retry in flight; empty when the budget refused it. Ends with its scope.
  class Retry {
   public:
    Retry() = default;
    Retry(Retry&& other) noexcept : budget_(other.budget_) { other.budget_ = nullptr; }
    Retry& operator=(Retry&& other) noexcept;
    ~Retry() { end(); }
    explicit operator bool() const { return budget_ != nullptr; }
    void end();

   private:
    friend class RetryBudget;
    explicit Retry(RetryBudget* budget) : budget_(budget) {}
    RetryBudget* budget_ = nullptr;
  };

  // Takes a place for one retry, waiting up to `patience` for one while
  // max(floor, percent% of active requests) retries are in flight already;
  // returns an empty Retry when none came free.
  Retry try_retry(std::chrono::milliseconds patience = std::chrono::milliseconds(0));

  int active_requests() const { return active_.load(kRelaxed); }
  void set_percent(int percent) { percent_.store(percent, kRelaxed); }
  int retries_in_flight() const { return retries_.load(kRelaxed); }

 private:
  static constexpr std::memory_order kRelaxed = std::memory_order_relaxed;
  std::atomic<int> percent_;  // set_percent() on SIGHUP
  const int floor_;
  std::atomic<int> active_{0};   // client requests in flight
  std::atomic<int> retries_{0};  // retry attempts in flight
  std::atomic<int> waiting_{0};  // callers of try_retry() waiting for a place
  std::mutex wait_mutex_;        // only for place_freed_ (the counters are atomics)
  std::condition_variable place_freed_;

  bool take_place();
};

}  // namespace lb
