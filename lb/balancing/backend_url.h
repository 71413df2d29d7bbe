// Parsing of the --backend flag: `http://host:port[,weight=N][,max_requests=N|auto][,drain=true|false]`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lb/balancing/pool_tuning.h"

namespace lb {

// A backend's weight is 1..kMaxBackendWeight, wherever it comes from (a flag,
// the config, the admin API, an SRV record).
constexpr int kMaxBackendWeight = 1000;

// What one --backend flag (or config entry) says about a backend.
struct BackendSpec {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6 literals
  uint16_t port = 0;
  int weight = 1;      // 1..kMaxBackendWeight
  std::optional<RequestLimit> max_requests{};  // its own --max-requests; none: its pool's
  std::string discovered_by{};  // "srv+http://NAME" when DNS SRV records gave it; empty: configured
  // drain=true|false (a config's "drain"): taken out of rotation or put back
  // by a reload; none: a reload leaves an admin drain as it is.
  std::optional<bool> draining{};

  // Canonical URL, e.g. "http://127.0.0.1:8001" or "http://[::1]:8001".
  std::string url() const;
};

// Parses `URL[,weight=N][,max_requests=N|auto][,drain=true|false]`. Throws std::invalid_argument with a one-line message
// naming what is wrong (unknown scheme, missing host, bad port, bad weight, ...).
BackendSpec parse_backend_spec(const std::string& text);

}  // namespace lb
