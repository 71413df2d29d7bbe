#include "lb/protection/retry_budget.h"

#include <algorithm>

namespace lb {

RetryBudget::Retry& RetryBudget::Retry::operator=(Retry&& other) noexcept {
  if (this != &other) {
    end();
    budget_ = other.budget_;
    other.budget_ = nullptr;
  }
  return *this;
}

void RetryBudget::Retry::end() {
  if (budget_ == nullptr) return;
  budget_->retries_.fetch_sub(1, std::memory_order_acq_rel);
  if (budget_->waiting_.load(std::memory_order_acquire) > 0) {
    std::lock_guard<std::mutex> lock(budget_->wait_mutex_);  // so a waiter cannot miss the wake-up
    budget_->place_freed_.notify_one();
  }
  budget_ = nullptr;
}

bool RetryBudget::take_place() {
  const int allowed = std::max(floor_, active_.load(kRelaxed) * percent_.load(kRelaxed) / 100);
  int current = retries_.load(kRelaxed);
  while (current < allowed) {
    if (retries_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel)) return true;
  }
  return false;
}

RetryBudget::Retry RetryBudget::try_retry(std::chrono::milliseconds patience) {
  if (take_place()) return Retry(this);
  if (patience.count() <= 0) return Retry();
  std::unique_lock<std::mutex> lock(wait_mutex_);
  waiting_.fetch_add(1, std::memory_order_acq_rel);
  const bool placed = place_freed_.wait_for(lock, patience, [this] { return take_place(); });
  waiting_.fetch_sub(1, std::memory_order_acq_rel);
  return placed ? Retry(this) : Retry();
}

}  // namespace lb
