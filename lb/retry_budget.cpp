#include "lb/retry_budget.h"

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
  if (budget_ != nullptr) budget_->retries_.fetch_sub(1, kRelaxed);
  budget_ = nullptr;
}

RetryBudget::Retry RetryBudget::try_retry() {
  const int allowed = std::max(floor_, active_.load(kRelaxed) * percent_ / 100);
  int current = retries_.load(kRelaxed);
  while (current < allowed) {
    if (retries_.compare_exchange_weak(current, current + 1, kRelaxed)) return Retry(this);
  }
  return Retry();
}

}  // namespace lb
