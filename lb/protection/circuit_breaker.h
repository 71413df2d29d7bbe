// One circuit breaker per backend (pure logic, injected clock).
//
//   Closed   --failure ratio reached in the rolling window-->  Open
//   Open     --open_for elapsed, at the next begin_request()-->  HalfOpen
//   HalfOpen --any trial fails-->  Open (a new open_for)
//   HalfOpen --half_open_trials trials all succeed-->  Closed (a fresh window)
//
// Callers pair every admitted begin_request() with exactly one end_request(),
// like nginx's get/free, handing back the ticket it gave: so trial slots cannot
// leak, and only a trial's own outcome decides a half-open period.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include "lb/protection/rolling_window.h"
#include "lb/protection/steady_clock.h"

namespace lb {

enum class CircuitState { Closed, Open, HalfOpen };

// "closed", "open", "half-open".
const char* to_string(CircuitState state);

struct CircuitSettings {
  double failure_ratio = 0.5;  // open when failures/requests >= this ...
  int min_requests = 10;       // ... and at least this many requests in the window
  std::chrono::milliseconds window{10000};
  std::chrono::milliseconds open_for{30000};
  int half_open_trials = 3;  // trial requests allowed in half-open; all must succeed to close
};

// What a call changed, so the caller can log exactly one line per transition.
// end_request() also reports an unchanged state, as from = to (so its caller
// need not lock again to ask).
struct CircuitTransition {
  bool changed = false;
  CircuitState from = CircuitState::Closed;
  CircuitState to = CircuitState::Closed;
};

// What begin_request() gave a request, handed back to end_request().
struct CircuitTicket {
  bool admitted = false;
  uint64_t trial_of = 0;  // the half-open period this request is a trial of; 0: not a trial
  explicit operator bool() const { return admitted; }
};

class CircuitBreaker {
 public:
  // Throws std::invalid_argument unless 0 < failure_ratio <= 1, min_requests >= 1,
  // window > 0, open_for >= 0 and half_open_trials >= 1.
  explicit CircuitBreaker(CircuitSettings settings, SteadyClock clock = std::chrono::steady_clock::now);

  // Non-consuming check for selectors: false while open (before open_for has
  // elapsed) or half-open with every trial slot taken. True for an open breaker
  // whose period has elapsed: the next begin_request() makes it half-open.
  bool allows_traffic() const;

  // Call when a request is actually about to be sent. Not admitted (false):
  // pick another backend. An open breaker whose period elapsed becomes
  // half-open here; that change is written to `*transition` (if given;
  // unchanged calls write {changed = false}). In half-open, admits at most
  // half_open_trials requests (trials) in all until it closes or re-opens.
  CircuitTicket begin_request(CircuitTransition* transition = nullptr);

  // Outcome of a request begin_request() admitted, with its ticket (failure =
  // connect error, timeout, 5xx: the caller decides). Every outcome counts in
  // the window. In Closed the ratio is checked after each outcome, a success
  // included. In HalfOpen only the outcome of one of this period's trials
  // counts: a request admitted before the breaker opened (or a trial of an
  // earlier period) changes nothing, in Open neither.
  CircuitTransition end_request(const CircuitTicket& ticket, bool success);
  // New settings (SIGHUP): the state is kept, the window's counts start over.
  void reconfigure(CircuitSettings settings);

  // Stays Open after open_for elapses until begin_request() moves it on.
  CircuitState state() const;

  // Outcomes in the current window, for /status. The window is kept in 10
  // buckets, so an outcome counts for between 9/10 of `window` and `window`.
  int window_requests() const;
  int window_failures() const;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Counts {
    int requests = 0;
    int failures = 0;
    Counts& operator+=(const Counts& other) {
      requests += other.requests;
      failures += other.failures;
      return *this;
    }
  };

  CircuitTransition move_to(CircuitState to, TimePoint now);
  bool open_elapsed(TimePoint now) const { return now - opened_at_ >= settings_.open_for; }

  CircuitSettings settings_;  // guards: mutex_ (reconfigure())
  const SteadyClock clock_;

  mutable std::mutex mutex_;
  CircuitState state_ = CircuitState::Closed;  // guards: mutex_
  TimePoint opened_at_{};                      // guards: mutex_; when it last opened
  uint64_t half_open_period_ = 0;              // guards: mutex_; counts the moves to half-open
  int trials_admitted_ = 0;                    // guards: mutex_; in this half-open period
  int trial_successes_ = 0;                    // guards: mutex_
  RollingWindow<Counts> window_;               // guards: mutex_; outcomes over settings_.window
};

}  // namespace lb
