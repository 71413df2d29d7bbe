// What /status and /metrics say, built from the live Balancer and counters.
// Pure formatting: unit-testable without a server.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "lb/balancing/balancer.h"
#include "lb/operations/metrics.h"

namespace lb {

// One backend as /status shows it.
nlohmann::json backend_status(const Backend& backend);

// The whole /status document.
nlohmann::json status_json(const BackendPool& pool, const std::string& algorithm, std::size_t open_connections,
                           std::chrono::steady_clock::duration uptime);

// Prometheus text exposition format (version 0.0.4).
std::string metrics_text(const BackendPool& pool, const Metrics& metrics, std::size_t open_connections);

}  // namespace lb
