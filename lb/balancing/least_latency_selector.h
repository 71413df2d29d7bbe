// Least latency (README "Least latency"): the eligible backend expected to
// answer soonest wins: its latency (latency_estimate.h) x (requests in
// flight + 1) / weight, and / its limit when it has one (least_latency_cost()).
// A backend with no history yet is taken at the median of the others', so a
// new one is neither flooded nor starved. Ties
// go round-robin, as in least connections. A full scan under one mutex (a
// pool has a handful of backends); each backend's estimate has its own lock,
// taken only to read it.
#pragma once

#include <mutex>
#include <vector>

#include "lb/balancing/selector.h"

namespace lb {

class LeastLatencySelector : public Selector {
 public:
  explicit LeastLatencySelector(BackendList backends) : backends_(std::move(backends)) {}
  std::shared_ptr<Backend> pick(const SelectionContext& context) override;
  const char* name() const override { return "least-latency"; }

 private:
  const BackendList backends_;
  std::mutex mutex_;
  size_t next_start_ = 0;             // guards: mutex_; where the next tie-breaking scan begins
  std::vector<double> latencies_;     // guards: mutex_; pick()'s scratch, kept to reuse its memory
  std::vector<double> known_;         // guards: mutex_; the same
};

}  // namespace lb
