// A pool's recent times to a first response byte, over the last 10 seconds,
// for the dashboard's p50/p99 and --hedge-after auto (the 95th percentile).
// A histogram of buckets 10% wide, kept per second in a RollingWindow; a
// percentile is exact to within its bucket. Thread-safe: one mutex.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "lb/protection/rolling_window.h"

namespace lb {

class ResponseTimes {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kWindow{10};

  explicit ResponseTimes(Clock::time_point epoch = Clock::now()) : window_(epoch, kWindow) {}
  void record(double ms, Clock::time_point now);
  // The `quantile` (0..1) of the last 10 s in ms, 0 when nothing was recorded.
  double percentile(double quantile, Clock::time_point now) const;

 private:
  static constexpr int kBuckets = 160;  // from 0.1 ms, 10% apart: up to about 3 hours
  struct Histogram {
    std::array<uint32_t, kBuckets> counts{};
    Histogram& operator+=(const Histogram& other);
  };
  mutable std::mutex mutex_;
  RollingWindow<Histogram> window_;  // guards: mutex_
};

}  // namespace lb
