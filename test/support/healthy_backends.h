// Backends on 127.0.0.1:8001, 8002, ... that passed their first health
// check, for the unit tests of selection, passive health and least latency.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "lb/balancing/backend.h"

namespace test_support {

inline lb::BackendList healthy_backends(const std::vector<int>& weights, const lb::BackendSettings& settings = {}) {
  lb::BackendList backends;
  int port = 8001;
  for (int weight : weights) {
    lb::BackendSpec spec{"http", "127.0.0.1", static_cast<uint16_t>(port++), weight};
    auto backend = std::make_shared<lb::Backend>(spec, settings);
    backend->record_check(true, "200");
    backends.push_back(backend);
  }
  return backends;
}

// `count` backends of weight 1.
inline lb::BackendList healthy_backends(int count, const lb::BackendSettings& settings = {}) {
  return healthy_backends(std::vector<int>(static_cast<size_t>(count), 1), settings);
}

}  // namespace test_support
