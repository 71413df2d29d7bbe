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

namespace {

// Every algorithm: its name (for --algorithm, the config file, PUT /pools) and its maker.
using MakeSelector = std::unique_ptr<Selector> (*)(BackendList);
template <typename Algorithm>
std::unique_ptr<Selector> make(BackendList backends) {
  return std::make_unique<Algorithm>(std::move(backends));
}
const std::pair<const char*, MakeSelector> kAlgorithms[] = {
    {"round-robin", make<RoundRobinSelector>},
    {"least-connections", make<LeastConnectionsSelector>},
    {"least-latency", make<LeastLatencySelector>},
};

}  // namespace

const std::vector<std::string>& algorithm_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const auto& [name, maker] : kAlgorithms) all.emplace_back(name);
    return all;
  }();
  return names;
}

std::string algorithm_choices() {
  const std::vector<std::string>& names = algorithm_names();
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return text;
}

std::unique_ptr<Selector> make_selector(const std::string& algorithm, BackendList backends) {
  for (const auto& [name, maker] : kAlgorithms) {
    if (algorithm == name) return maker(std::move(backends));
  }
  throw std::invalid_argument("unknown algorithm '" + algorithm + "' (use " + algorithm_choices() + ")");
}

}  // namespace lb
