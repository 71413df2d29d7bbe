#include "lb/balancing/least_latency_selector.h"

#include <algorithm>

namespace lb {

std::shared_ptr<Backend> LeastLatencySelector::pick(const SelectionContext& context) {
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t n = backends_.size();
  // Each eligible backend's latency, or one of these two.
  constexpr double kNotEligible = -1, kUnknown = -2;
  latencies_.assign(n, kNotEligible);
  known_.clear();
  for (size_t i = 0; i < n; ++i) {
    const Backend& candidate = *backends_[i];
    if (!is_eligible(candidate, context)) continue;
    latencies_[i] = candidate.latency_ms(context.now).value_or(kUnknown);
    if (latencies_[i] >= 0) known_.push_back(latencies_[i]);
  }
  double median = 0;
  if (!known_.empty()) {
    std::nth_element(known_.begin(), known_.begin() + static_cast<long>(known_.size() / 2), known_.end());
    median = known_[known_.size() / 2];
  }
  int best = -1;
  double best_cost = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (next_start_ + k) % n;
    if (latencies_[i] == kNotEligible) continue;
    const Backend& candidate = *backends_[i];
    const double latency = latencies_[i] == kUnknown ? median : latencies_[i];
    const double cost = least_latency_cost(latency, candidate.active_requests.load(std::memory_order_relaxed),
                                           candidate.selection_weight(context.now), candidate.max_requests());
    if (best < 0 || cost < best_cost) {
      best = static_cast<int>(i);
      best_cost = cost;
    }
  }
  if (best < 0) return nullptr;
  next_start_ = (static_cast<size_t>(best) + 1) % n;
  return backends_[static_cast<size_t>(best)];
}

}  // namespace lb
