// Pools and routes from flags and the config file (README "Several services (pools and routes)"):
//
//   -b [POOL=]URL[,weight=N]     a backend of POOL ("default" when not named)
//   --route MATCH=POOL           MATCH: HOST, HOST/PATH or /PATH
//   "pools":  {"api": {"backends": [...], "algorithm": ..., "sticky-cookie": ...,
//              "health-path": ..., "health-interval": ..., "backend-ca": FILE,
//              "backend-cert": FILE, "backend-key": FILE}}
//   "routes": [{"host": ..., "path": ..., "pool": ..., "strip-prefix": true,
//               "request-headers": {"set": {...}, "add": {...}, "remove": [...]},
//               "response-headers": {...}}]
//
// Every check that names a route or pool happens here, so a bad file is
// refused whole (at start: exit 2; on SIGHUP: the running configuration stays).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lb/balancing/balancer.h"

namespace lb {

// Pools in order of first mention: those the --backend texts name, then the
// file's "pools" (null: none). A pool's backends are its --backend ones
// followed by its "backends"; its settings are `defaults` overridden by the
// file's. Throws OptionsError.
std::vector<PoolSpec> build_pools(const std::vector<std::string>& backend_texts, const nlohmann::ordered_json& pools,
                                  const PoolSettings& defaults);

// --route texts when given (flags override the file), else the file's "routes".
std::vector<Route> build_routes(const std::vector<std::string>& route_texts, const nlohmann::ordered_json& routes);

// The checks that need both: a route naming an unknown pool, a pool without
// backends, no "default" pool when there are no routes, and a route that can
// never match (an error, or with `warn_only` (--check) a line in `warnings`).
void check_pools_and_routes(const std::vector<PoolSpec>& pools, const std::vector<Route>& routes, bool warn_only,
                            std::vector<std::string>& warnings);

// "route 2 (api.example.com/v1)": how errors and --check name a route.
std::string describe_route(const std::vector<Route>& routes, std::size_t index);

}  // namespace lb
