#include "lb/balancing/round_robin_selector.h"

#include <algorithm>

namespace lb {

RoundRobinSelector::RoundRobinSelector(BackendList backends)
    : backends_(std::move(backends)), current_(backends_.size(), 0), healthy_(backends_.size(), false) {}

std::shared_ptr<Backend> RoundRobinSelector::pick(const SelectionContext& context) {
  std::lock_guard<std::mutex> lock(mutex_);
  // When the set of healthy backends changes, every score restarts at zero: the
  // cycle begins again in the order given, and a backend that comes back gets
  // neither a catch-up burst nor a long wait behind stale scores.
  bool changed = false;
  for (size_t i = 0; i < backends_.size(); ++i) {
    bool healthy = backends_[i]->healthy() && !backends_[i]->ejected(context.now);
    changed = changed || healthy != healthy_[i];
    healthy_[i] = healthy;
  }
  if (changed) std::fill(current_.begin(), current_.end(), 0);

  long total = 0;
  int best = -1;
  for (size_t i = 0; i < backends_.size(); ++i) {
    if (!is_eligible(*backends_[i], context)) continue;
    const long weight = backends_[i]->selection_weight(context.now);  // weight x 100, less in slow start
    current_[i] += weight;
    total += weight;
    if (best < 0 || current_[i] > current_[static_cast<size_t>(best)]) best = static_cast<int>(i);
  }
  if (best < 0) return nullptr;
  current_[static_cast<size_t>(best)] -= total;
  return backends_[static_cast<size_t>(best)];
}

}  // namespace lb
