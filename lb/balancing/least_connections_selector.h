// Weighted least connections: the backend with the fewest in-flight requests
// relative to its weight wins. Ties go round-robin (the scan starts after the
// previous winner), not to whichever backend was listed first.
#pragma once

#include <mutex>

#include "lb/balancing/selector.h"

namespace lb {

class LeastConnectionsSelector : public Selector {
 public:
  explicit LeastConnectionsSelector(BackendList backends) : backends_(std::move(backends)) {}
  std::shared_ptr<Backend> pick(const SelectionContext& context) override;
  const char* name() const override { return "least-connections"; }

 private:
  const BackendList backends_;
  std::mutex mutex_;
  size_t next_start_ = 0;  // guards: mutex_; where the next tie-breaking scan begins
};

}  // namespace lb
