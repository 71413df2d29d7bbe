#include "lb/protection/retry_budget.h"

#include <algorithm>
#include <stdexcept>

namespace lb {

RetryBudget::RetryBudget(int percent, SteadyClock clock)
    : clock_(clock ? std::move(clock) : throw std::invalid_argument("retry budget needs a clock")),
      percent_(std::clamp(percent, 0, 100)),
      window_(clock_(), kWindow),
      floor_tokens_(kMinRetriesPerSecond),
      floor_refilled_(clock_()) {}

void RetryBudget::deposit() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++window_.at(clock_()).deposits;
}

bool RetryBudget::try_withdraw() {
  std::lock_guard<std::mutex> lock(mutex_);
  const TimePoint now = clock_();
  if (!allows_one_more(now)) return false;
  // Every retry draws on the floor too, so the floor adds only what the share lacks.
  floor_tokens_ = std::max(0.0, floor_tokens_ - 1);
  ++window_.at(now).withdrawals;
  return true;
}

bool RetryBudget::has_room() {
  std::lock_guard<std::mutex> lock(mutex_);
  return allows_one_more(clock_());
}

bool RetryBudget::allows_one_more(TimePoint now) {
  refill_floor(now);
  const Counts totals = window_.sum(now);
  // In hundredths of a retry: each deposit earns percent_, each retry costs 100.
  const bool within_share = totals.deposits * percent_ - (totals.withdrawals + 1) * 100 >= 0;
  return within_share || floor_tokens_ >= 1;
}

void RetryBudget::set_percent(int percent) {
  std::lock_guard<std::mutex> lock(mutex_);
  percent_ = std::clamp(percent, 0, 100);
}

int RetryBudget::window_deposits() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(window_.sum(clock_()).deposits);
}

int RetryBudget::window_withdrawals() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(window_.sum(clock_()).withdrawals);
}

void RetryBudget::refill_floor(TimePoint now) {
  if (now <= floor_refilled_) return;
  const double seconds = std::chrono::duration<double>(now - floor_refilled_).count();
  floor_tokens_ = std::min<double>(kMinRetriesPerSecond, floor_tokens_ + seconds * kMinRetriesPerSecond);
  floor_refilled_ = now;
}

}  // namespace lb
