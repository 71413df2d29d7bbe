// One backend's passive health: what the outcomes of its attempts did to it,
// as one state (pure logic, injected clock). It owns the circuit breaker and
// the streak of failures that outlier ejection counts, so one signal (an
// attempt failed) goes through one place:
//
//   Serving     --the breaker's failure ratio reached (asked first)--------->  CircuitOpen
//   Serving     --eject-after failures in a row, the circuit still closed--->  Ejected(until)
//   Ejected     --until passes (OutlierEjector chose how long)-------------->  Serving
//   CircuitOpen --open_for elapsed, at the next admit()-------------------->  HalfOpen
//   HalfOpen    --a trial fails---------------------------------------------> CircuitOpen
//   HalfOpen    --every trial succeeds-------------------------------------->  Serving
//
// The breaker governs: when one failure reaches both its ratio and a streak,
// the circuit opens and nothing is ejected; while the circuit is open or
// half-open failures count towards no streak and no ejection begins; and a
// circuit that opens ends an ejection in force. So only the breaker's clock
// (--cb-open-seconds, then its trials) decides when an open backend gets
// traffic again; ejection acts on streaks the breaker did not trip on (with
// the defaults, 5 failures in a row before the breaker's 10 requests).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "lb/protection/circuit_breaker.h"

namespace lb {

enum class PassiveState { Serving, Ejected, CircuitOpen, HalfOpen };

// "serving", "ejected", "circuit-open", "half-open".
const char* to_string(PassiveState state);

// What one attempt's outcome did.
struct AttemptVerdict {
  CircuitTransition circuit;  // a change of the breaker (the caller logs it)
  int failures_in_a_row = 0;  // the streak, this failure included (0 after a success or while the breaker governs)
  bool ejection_due = false;  // the streak reached eject-after with the circuit closed: ask the OutlierEjector
};

class PassiveHealth {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit PassiveHealth(CircuitSettings circuit, SteadyClock clock = std::chrono::steady_clock::now);

  // Step 4 of an exchange (choose): may a request be sent? (The breaker's ticket; an open circuit
  // whose time is up becomes half-open here.)
  CircuitTicket admit(CircuitTransition* transition) { return breaker_.begin_request(transition); }
  // Step 8 of an exchange (release): how the attempt `ticket` admitted ended. `eject_after`: the
  // failures in a row that make an ejection due (0: ejection off).
  AttemptVerdict record(const CircuitTicket& ticket, bool success, int eject_after, TimePoint now);

  // Out of rotation until `until`; false (nothing changes) unless the circuit
  // is closed and it is not ejected already.
  bool eject_until(TimePoint until, TimePoint now);
  bool ejected(TimePoint now) const { return now.time_since_epoch().count() < ejected_until_.load(kAcquire); }
  TimePoint ejected_until() const { return TimePoint(TimePoint::duration(ejected_until_.load(kAcquire))); }
  // True once, for the first call after an ejection ran its time (the caller logs it).
  bool take_ejection_end(TimePoint now);

  // The one state, for tests and /status ("passive").
  PassiveState state(TimePoint now) const;
  int failures_in_a_row() const;

  CircuitBreaker& breaker() { return breaker_; }
  const CircuitBreaker& breaker() const { return breaker_; }

 private:
  static constexpr std::memory_order kAcquire = std::memory_order_acquire;

  CircuitBreaker breaker_;  // its own lock; taken inside mutex_, never the other way round
  mutable std::mutex mutex_;  // orders outcomes: a breaker decision and the streak change together
  int failures_in_a_row_ = 0;  // guards: mutex_
  // steady_clock ticks; 0: not ejected (or its end was taken). Written under
  // mutex_, read without it by every selection.
  std::atomic<int64_t> ejected_until_{0};
};

}  // namespace lb
