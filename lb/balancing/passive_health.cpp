#include "lb/balancing/passive_health.h"

namespace lb {

const char* to_string(PassiveState state) {
  switch (state) {
    case PassiveState::Serving: return "serving";
    case PassiveState::Ejected: return "ejected";
    case PassiveState::CircuitOpen: return "circuit-open";
    case PassiveState::HalfOpen: return "half-open";
  }
  return "unknown";
}

PassiveHealth::PassiveHealth(CircuitSettings circuit, SteadyClock clock) : breaker_(circuit, std::move(clock)) {}

AttemptVerdict PassiveHealth::record(const CircuitTicket& ticket, bool success, int eject_after, TimePoint now) {
  std::lock_guard<std::mutex> lock(mutex_);
  AttemptVerdict verdict;
  verdict.circuit = breaker_.end_request(ticket, success);
  const CircuitState circuit = verdict.circuit.to;  // the state after, changed or not
  if (circuit != CircuitState::Closed) {  // the breaker governs: its clock alone brings the backend back
    failures_in_a_row_ = 0;
    if (verdict.circuit.changed && circuit == CircuitState::Open) ejected_until_.store(0, std::memory_order_release);
    return verdict;
  }
  if (success) {
    failures_in_a_row_ = 0;
    return verdict;
  }
  verdict.failures_in_a_row = ++failures_in_a_row_;
  verdict.ejection_due = eject_after > 0 && failures_in_a_row_ >= eject_after && !ejected(now);
  return verdict;
}

bool PassiveHealth::eject_until(TimePoint until, TimePoint now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (ejected(now) || breaker_.state() != CircuitState::Closed) return false;
  failures_in_a_row_ = 0;
  ejected_until_.store(until.time_since_epoch().count(), std::memory_order_release);
  return true;
}

bool PassiveHealth::take_ejection_end(TimePoint now) {
  int64_t until = ejected_until_.load(kAcquire);
  return until != 0 && now.time_since_epoch().count() >= until &&
         ejected_until_.compare_exchange_strong(until, 0, std::memory_order_acq_rel);
}

PassiveState PassiveHealth::state(TimePoint now) const {
  switch (breaker_.state()) {
    case CircuitState::Open: return PassiveState::CircuitOpen;
    case CircuitState::HalfOpen: return PassiveState::HalfOpen;
    case CircuitState::Closed: break;
  }
  return ejected(now) ? PassiveState::Ejected : PassiveState::Serving;
}

int PassiveHealth::failures_in_a_row() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failures_in_a_row_;
}

}  // namespace lb
