// A retry budget over recent requests, as Finagle's RetryBudget (pure logic,
// injected clock): each client request deposits, each retry withdraws, and a
// retry costs 100/PERCENT deposits, so over the last `kWindow` retries stay
// within PERCENT% of requests. Deposits and withdrawals both expire after the
// window. A total outage (every request retried) therefore sends at most
// 1 + PERCENT/100 times the requests to backends, while a burst of failures
// (a frozen backend's requests all timing out in the same millisecond) spends
// what ten seconds of traffic saved and passes.
//
// A floor keeps a quiet load balancer able to retry: at least
// `kMinRetriesPerSecond` retries a second pass whatever the share (a small
// token bucket refilled at that rate; every retry draws on it, so the floor
// adds nothing while the share already allows that many).
//
// One mutex, held for a few additions per call, never over I/O.
#pragma once

#include <chrono>
#include <mutex>

#include "lb/protection/rolling_window.h"
#include "lb/protection/steady_clock.h"

namespace lb {

class RetryBudget {
 public:
  static constexpr std::chrono::seconds kWindow{10};  // Finagle's ttl
  static constexpr int kMinRetriesPerSecond = 3;

  // `percent` 0-100 (--retry-budget): retries as a share of recent requests.
  explicit RetryBudget(int percent = 20, SteadyClock clock = std::chrono::steady_clock::now);
  RetryBudget(const RetryBudget&) = delete;
  RetryBudget& operator=(const RetryBudget&) = delete;

  // A client request that may be sent to a backend (once, however many tries).
  void deposit();
  // One retry: true when the budget allows it (and then it is counted).
  bool try_withdraw();
  // Whether try_withdraw() would allow one now (nothing is counted).
  bool has_room();
  // --retry-budget on SIGHUP; what was deposited stays.
  void set_percent(int percent);

  // Requests and retries in the window, for tests and /status-like views.
  int window_deposits() const;
  int window_withdrawals() const;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Counts {
    long long deposits = 0;
    long long withdrawals = 0;
    Counts& operator+=(const Counts& other) {
      deposits += other.deposits;
      withdrawals += other.withdrawals;
      return *this;
    }
  };

  void refill_floor(TimePoint now);  // caller holds mutex_
  bool allows_one_more(TimePoint now);  // caller holds mutex_

  const SteadyClock clock_;

  mutable std::mutex mutex_;
  int percent_;                   // guards: mutex_
  RollingWindow<Counts> window_;  // guards: mutex_; a deposit counts for 9-10 s of kWindow
  double floor_tokens_;           // guards: mutex_; up to kMinRetriesPerSecond
  TimePoint floor_refilled_;             // guards: mutex_
};

}  // namespace lb
