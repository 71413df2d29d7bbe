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
// One pool as /status shows it (PUT /pools/{name} answers with it too).
nlohmann::json pool_status(const BackendPool& pool);

// The whole /status document: every pool with its backends, the routes, and
// (as before pools) "backends" and "algorithm" of all backends / the first pool.
// `open_streams`: HTTP/2 streams being served (their connections count once
// in `open_connections`).
nlohmann::json status_json(const Topology& topology, std::size_t open_connections,
                           std::chrono::steady_clock::duration uptime, std::size_t open_streams = 0);

// Prometheus text exposition format (version 0.0.4); backends labelled by pool.
std::string metrics_text(const Topology& topology, const Metrics& metrics, std::size_t open_connections,
                         std::size_t open_streams = 0);

}  // namespace lb
