#include "lb/balancing/concurrency_limit.h"

#include <algorithm>
#include <cmath>

namespace lb {

int ConcurrencyLimit::on_sample(double latency_ms, int in_flight, Clock::time_point now) {
  if (in_flight <= 1) {
    ++alone_samples_;  // a plain mean over the first 1/kAloneWeight, then decaying
    alone_ms_ += std::max(kAloneWeight, 1.0 / alone_samples_) * (latency_ms - alone_ms_);
  }
  if (window_samples_ == 0) window_start_ = now;
  window_sum_ms_ += latency_ms;
  ++window_samples_;
  window_busiest_ = std::max(window_busiest_, in_flight);
  if (window_samples_ >= kWindowSamples && now - window_start_ >= kWindowTime) close_window();
  return limit();
}

void ConcurrencyLimit::close_window() {
  const double average = window_sum_ms_ / window_samples_;
  const int busiest = window_busiest_;
  window_sum_ms_ = 0;
  window_samples_ = 0;
  window_busiest_ = 0;
  if (lowest_window_ms_ == 0 || average < lowest_window_ms_) lowest_window_ms_ = average;
  const double unloaded = unloaded_ms();
  const double gradient = std::clamp(kTolerance * unloaded / std::max(average, 1e-3), 0.5, 1.0);
  double next = limit_ * gradient + std::sqrt(limit_);
  if (next > limit_ && busiest < limit_ / 2) next = limit_;  // idle: no evidence it can take more
  limit_ = std::clamp(next, kMin, kMax);
}

}  // namespace lb
