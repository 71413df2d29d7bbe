#include "lb/protection/circuit_breaker.h"

#include <stdexcept>

namespace lb {

namespace {

// Checked in the initializer list, before the clock is first read.
const CircuitSettings& validated(const CircuitSettings& s) {
  // Written so NaN fails too.
  if (!(s.failure_ratio > 0 && s.failure_ratio <= 1)) throw std::invalid_argument("cb failure ratio must be in (0, 1]");
  if (s.min_requests < 1) throw std::invalid_argument("cb min requests must be at least 1");
  if (s.window.count() <= 0) throw std::invalid_argument("cb window must be positive");
  if (s.open_for.count() < 0) throw std::invalid_argument("cb open time must not be negative");
  if (s.half_open_trials < 1) throw std::invalid_argument("cb half-open trials must be at least 1");
  return s;
}

}  // namespace

const char* to_string(CircuitState state) {
  switch (state) {
    case CircuitState::Closed: return "closed";
    case CircuitState::Open: return "open";
    case CircuitState::HalfOpen: return "half-open";
  }
  return "unknown";
}

CircuitBreaker::CircuitBreaker(CircuitSettings settings, SteadyClock clock)
    : settings_(validated(settings)),
      clock_(clock ? std::move(clock) : throw std::invalid_argument("circuit breaker needs a clock")),
      window_(clock_(), settings_.window) {}

void CircuitBreaker::reconfigure(CircuitSettings settings) {
  CircuitSettings checked = validated(settings);
  std::lock_guard<std::mutex> lock(mutex_);
  settings_ = checked;
  window_.set_window(settings_.window);
}

bool CircuitBreaker::allows_traffic() const {
  std::lock_guard<std::mutex> lock(mutex_);
  switch (state_) {
    case CircuitState::Closed: return true;
    case CircuitState::Open: return open_elapsed(clock_());  // half_open_trials >= 1, so a slot awaits
    case CircuitState::HalfOpen: return trials_admitted_ < settings_.half_open_trials;
  }
  return false;
}

CircuitTicket CircuitBreaker::begin_request(CircuitTransition* transition) {
  std::lock_guard<std::mutex> lock(mutex_);
  CircuitTransition change;
  CircuitTicket ticket;
  switch (state_) {
    case CircuitState::Closed:
      ticket.admitted = true;
      break;
    case CircuitState::Open: {
      const TimePoint now = clock_();
      if (!open_elapsed(now)) break;
      change = move_to(CircuitState::HalfOpen, now);
    }
      [[fallthrough]];
    case CircuitState::HalfOpen:
      if (trials_admitted_ < settings_.half_open_trials) {
        ++trials_admitted_;
        ticket = CircuitTicket{true, half_open_period_};
      }
      break;
  }
  if (transition) *transition = change;
  return ticket;
}

CircuitTransition CircuitBreaker::end_request(const CircuitTicket& ticket, bool success) {
  std::lock_guard<std::mutex> lock(mutex_);
  const TimePoint now = clock_();
  Counts& bucket = window_.at(now);
  ++bucket.requests;
  if (!success) ++bucket.failures;

  switch (state_) {
    case CircuitState::Closed: {
      Counts counts = window_.sum(now);
      // Division, not multiplication: 7/25 >= 0.28 holds in doubles, 7 >= 0.28 * 25 does not.
      if (counts.requests >= settings_.min_requests &&
          static_cast<double>(counts.failures) / counts.requests >= settings_.failure_ratio) {
        return move_to(CircuitState::Open, now);
      }
      break;
    }
    case CircuitState::Open:
      break;
    case CircuitState::HalfOpen:
      if (ticket.trial_of != half_open_period_) break;  // admitted before this period: no trial
      if (!success) return move_to(CircuitState::Open, now);
      if (++trial_successes_ >= settings_.half_open_trials) return move_to(CircuitState::Closed, now);
      break;
  }
  return {false, state_, state_};
}

CircuitState CircuitBreaker::state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_;
}

int CircuitBreaker::window_requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return window_.sum(clock_()).requests;
}

int CircuitBreaker::window_failures() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return window_.sum(clock_()).failures;
}

// Caller holds mutex_.
CircuitTransition CircuitBreaker::move_to(CircuitState to, TimePoint now) {
  CircuitTransition change{true, state_, to};
  state_ = to;
  if (to == CircuitState::Open) opened_at_ = now;
  if (to == CircuitState::HalfOpen) {
    ++half_open_period_;  // from 1: a ticket's 0 means "no trial"
    trials_admitted_ = trial_successes_ = 0;
  }
  if (to == CircuitState::Closed) window_.clear();  // a fresh window: old failures must not re-trip it
  return change;
}

}  // namespace lb
