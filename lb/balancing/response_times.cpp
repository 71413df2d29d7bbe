#include "lb/balancing/response_times.h"

#include <cmath>

namespace lb {

namespace {

constexpr double kLowestMs = 0.1;
const double kStep = std::log(1.1);

int bucket_of(double ms, int buckets) {
  if (ms <= kLowestMs) return 0;
  return std::min(buckets - 1, 1 + static_cast<int>(std::log(ms / kLowestMs) / kStep));
}

// The bucket's upper bound.
double bucket_top(int bucket) { return kLowestMs * std::exp(kStep * bucket); }

}  // namespace

ResponseTimes::Histogram& ResponseTimes::Histogram::operator+=(const Histogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts[i] += other.counts[i];
  return *this;
}

void ResponseTimes::record(double ms, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++window_.at(now).counts[bucket_of(ms, kBuckets)];
}

double ResponseTimes::percentile(double quantile, Clock::time_point now) const {
  Histogram all;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    all = window_.sum(now);
  }
  uint64_t total = 0;
  for (uint32_t count : all.counts) total += count;
  if (total == 0) return 0;
  const uint64_t rank = static_cast<uint64_t>(std::ceil(quantile * total));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += all.counts[i];
    if (seen >= rank && all.counts[i] > 0) return bucket_top(i);
  }
  return bucket_top(kBuckets - 1);
}

}  // namespace lb
