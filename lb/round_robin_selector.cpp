#include "lb/round_robin_selector.h"

namespace lb {

RoundRobinSelector::RoundRobinSelector(BackendList backends)
    : backends_(std::move(backends)), current_(backends_.size(), 0) {}

std::shared_ptr<Backend> RoundRobinSelector::pick(const SelectionContext& context) {
  std::lock_guard<std::mutex> lock(mutex_);
  long total = 0;
  int best = -1;
  for (size_t i = 0; i < backends_.size(); ++i) {
    // An ineligible backend's score stays frozen, so one that comes back
    // resumes its place instead of receiving a catch-up burst.
    if (!is_eligible(*backends_[i], context)) continue;
    current_[i] += backends_[i]->weight();
    total += backends_[i]->weight();
    if (best < 0 || current_[i] > current_[static_cast<size_t>(best)]) best = static_cast<int>(i);
  }
  if (best < 0) return nullptr;
  current_[static_cast<size_t>(best)] -= total;
  return backends_[static_cast<size_t>(best)];
}

}  // namespace lb
