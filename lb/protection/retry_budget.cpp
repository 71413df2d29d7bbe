#include "lb/protection/retry_budget.h"

#include <algorithm>
#include <stdexcept>

namespace lb {

namespace {

constexpr std::chrono::steady_clock::duration kBucketWidth =
    std::chrono::duration_cast<std::chrono::steady_clock::duration>(RetryBudget::kWindow) / 10;

}  // namespace

RetryBudget::RetryBudget(int percent, SteadyClock clock)
    : clock_(clock ? std::move(clock) : throw std::invalid_argument("retry budget needs a clock")),
      epoch_(clock_()),
      percent_(std::clamp(percent, 0, 100)),
      floor_tokens_(kMinRetriesPerSecond),
      floor_refilled_(epoch_) {
  static_assert(kBuckets == 10, "kBucketWidth divides the window by 10");
}

void RetryBudget::deposit() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++bucket_at(clock_()).deposits;
}

bool RetryBudget::try_withdraw() {
  std::lock_guard<std::mutex> lock(mutex_);
  const TimePoint now = clock_();
  refill_floor(now);
  const Bucket totals = totals_at(now);
  // In hundredths of a retry: each deposit earns percent_, each retry costs 100.
  const bool within_share = totals.deposits * percent_ - (totals.withdrawals + 1) * 100 >= 0;
  const bool within_floor = floor_tokens_ >= 1;
  if (!within_share && !within_floor) return false;
  // Every retry draws on the floor too, so the floor adds only what the share lacks.
  floor_tokens_ = std::max(0.0, floor_tokens_ - 1);
  ++bucket_at(now).withdrawals;
  return true;
}

void RetryBudget::set_percent(int percent) {
  std::lock_guard<std::mutex> lock(mutex_);
  percent_ = std::clamp(percent, 0, 100);
}

int RetryBudget::window_deposits() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(totals_at(clock_()).deposits);
}

int RetryBudget::window_withdrawals() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(totals_at(clock_()).withdrawals);
}

long long RetryBudget::slot_at(TimePoint now) const {
  if (now <= epoch_) return 0;  // a fake clock may step back; never index negatively
  return static_cast<long long>((now - epoch_) / kBucketWidth);
}

RetryBudget::Bucket& RetryBudget::bucket_at(TimePoint now) {
  const long long slot = slot_at(now);
  Bucket& bucket = buckets_[static_cast<std::size_t>(slot % kBuckets)];
  if (bucket.slot != slot) bucket = Bucket{slot, 0, 0};  // its period has left the window: expired
  return bucket;
}

// Sums the current slot and the kBuckets - 1 before it.
RetryBudget::Bucket RetryBudget::totals_at(TimePoint now) const {
  const long long slot = slot_at(now);
  Bucket totals;
  for (const Bucket& bucket : buckets_) {
    if (bucket.slot > slot - kBuckets && bucket.slot <= slot) {
      totals.deposits += bucket.deposits;
      totals.withdrawals += bucket.withdrawals;
    }
  }
  return totals;
}

void RetryBudget::refill_floor(TimePoint now) {
  if (now <= floor_refilled_) return;
  const double seconds = std::chrono::duration<double>(now - floor_refilled_).count();
  floor_tokens_ = std::min<double>(kMinRetriesPerSecond, floor_tokens_ + seconds * kMinRetriesPerSecond);
  floor_refilled_ = now;
}

}  // namespace lb
