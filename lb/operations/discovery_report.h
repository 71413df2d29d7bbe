// The DNS SRV discovery part of /status and /metrics (README "Backends from
// DNS SRV"): each pool's SRV sources, their backends and last lookups.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "lb/balancing/balancer.h"

namespace lb {

// A pool's "srv_sources" in /status: [{"url", "name", "backends", "last_lookup": {...}}].
nlohmann::json discovery_status(const BackendPool& pool);

// lb_discovery_lookups_total{pool,name,result} and lb_discovery_backends{pool,name}; "" without SRV sources.
std::string discovery_metrics(const Topology& topology);

}  // namespace lb
