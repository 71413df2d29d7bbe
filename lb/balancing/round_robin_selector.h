// Smooth weighted round-robin, the interleaving nginx uses.
//
// Each pick adds every eligible backend's weight to its running score, takes
// the highest score and subtracts the total from it. Weights 5,1,1 give
// a a b a c a a (never a burst of five); equal weights give the plain cycle in
// the order the backends were given.
#pragma once

#include <mutex>
#include <vector>

#include "lb/balancing/selector.h"

namespace lb {

class RoundRobinSelector : public Selector {
 public:
  explicit RoundRobinSelector(BackendList backends);
  std::shared_ptr<Backend> pick(const SelectionContext& context) override;
  const char* name() const override { return "round-robin"; }

 private:
  const BackendList backends_;
  std::mutex mutex_;
  std::vector<long> current_;   // guards: mutex_; running score per backend
  std::vector<bool> healthy_;   // guards: mutex_; in rotation (healthy, not ejected) at the previous pick
};

}  // namespace lb
