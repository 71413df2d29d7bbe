#include "lb/balancing/latency_estimate.h"

#include <algorithm>
#include <cmath>

namespace lb {

namespace {
double millis_between(LatencyEstimate::Clock::time_point from, LatencyEstimate::Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}
}  // namespace

double LatencyEstimate::decayed(Clock::time_point now) const {
  if (samples_ == 0) return 0;
  const double elapsed = std::max(0.0, millis_between(stamp_, now));
  const double decay = std::max(1.0, static_cast<double>(decay_.count()));
  return average_ms_ * std::exp(-elapsed / decay);
}

void LatencyEstimate::end(std::multiset<Clock::time_point>::iterator started, double first_byte_ms, bool failed,
                          Clock::time_point now) {
  in_flight_.erase(started);
  double sample = std::max(0.0, first_byte_ms);
  const double current = decayed(now);
  if (failed) sample = std::max(sample, std::min(std::max(2 * current, kFailurePenaltyMs), kMaxFailurePenaltyMs));
  if (samples_ == 0 || sample > current) {
    average_ms_ = sample;  // the peak: a slower answer counts at once
  } else {
    const double elapsed = std::max(0.0, millis_between(stamp_, now));
    const double keep = std::exp(-elapsed / std::max(1.0, static_cast<double>(decay_.count())));
    average_ms_ = current + sample * (1 - keep);  // the stored average x keep is `current`
  }
  stamp_ = now;
  ++samples_;
}

double LatencyEstimate::average_ms(Clock::time_point now) const { return decayed(now); }

double LatencyEstimate::latency_ms(Clock::time_point now) const {
  const double average = decayed(now);
  if (in_flight_.empty()) return average;
  return std::max(average, millis_between(*in_flight_.begin(), now));
}

double least_latency_cost(double latency_ms, long in_flight, long weight, long max_requests) {
  return (latency_ms + 1) * static_cast<double>(in_flight + 1) /
         (static_cast<double>(std::max(1L, weight)) * static_cast<double>(std::max(1L, max_requests)));
}

}  // namespace lb
