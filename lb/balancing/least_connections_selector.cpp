#include "lb/balancing/least_connections_selector.h"

namespace lb {

std::shared_ptr<Backend> LeastConnectionsSelector::pick(const SelectionContext& context) {
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t n = backends_.size();
  int best = -1;
  long best_active = 0;
  long best_weight = 1;
  for (size_t k = 0; k < n; ++k) {
    size_t i = (next_start_ + k) % n;
    const Backend& candidate = *backends_[i];
    if (!is_eligible(candidate, context)) continue;
    long active = candidate.active_requests.load(std::memory_order_relaxed);
    long weight = candidate.selection_weight(context.now);  // lower while slow start ramps it up
    // active/weight < best_active/best_weight, compared without division.
    if (best < 0 || active * best_weight < best_active * weight) {
      best = static_cast<int>(i);
      best_active = active;
      best_weight = weight;
    }
  }
  if (best < 0) return nullptr;
  next_start_ = (static_cast<size_t>(best) + 1) % n;
  return backends_[static_cast<size_t>(best)];
}

}  // namespace lb
