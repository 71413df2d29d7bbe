#include "lb/balancing/selector.h"

#include <algorithm>
#include <stdexcept>

#include "lb/balancing/least_connections_selector.h"
#include "lb/balancing/least_latency_selector.h"
#include "lb/balancing/round_robin_selector.h"

namespace lb {

bool is_eligible(const Backend& backend, const SelectionContext& context) {
  if (!backend.healthy() || backend.draining.load(std::memory_order_relaxed)) return false;
  if (backend.ejected(context.now)) return false;
  if (!backend.breaker().allows_traffic()) return false;
  if (!context.ignore_room && !backend.has_room()) return false;
  return std::find(context.avoid.begin(), context.avoid.end(), &backend) == context.avoid.end();
}

std::unique_ptr<Selector> make_selector(const std::string& algorithm, BackendList backends) {
  if (algorithm == "round-robin") return std::make_unique<RoundRobinSelector>(std::move(backends));
  if (algorithm == "least-connections") return std::make_unique<LeastConnectionsSelector>(std::move(backends));
  if (algorithm == "least-latency") return std::make_unique<LeastLatencySelector>(std::move(backends));
  throw std::invalid_argument("unknown algorithm '" + algorithm +
                              "' (use round-robin, least-connections or least-latency)");
}

}  // namespace lb
