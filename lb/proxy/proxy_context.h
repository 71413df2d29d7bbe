// What every client connection shares: settings, the selector, the registry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "lb/balancing/balancer.h"
#include "lb/balancing/outlier_ejector.h"
#include "lb/operations/access_log.h"
#include "lb/operations/connection_registry.h"
#include "lb/operations/metrics.h"
#include "lb/protection/rate_limiter.h"
#include "lb/protection/retry_budget.h"
#include "lb/protection/trusted_proxies.h"
#include "lb/transport/stream.h"
#include "lb/transport/tls_context.h"

namespace lb {

struct ProxySettings {
  Millis connect_timeout{5000};     // TCP connect to a backend
  Millis backend_timeout{60000};    // waiting for a backend's response bytes; bounds all tries of a request
  Millis try_timeout{60000};        // replayable requests: first response byte from one backend, else retry
  Millis client_timeout{60000};     // waiting for client body bytes / client to accept ours
  Millis keepalive_timeout{60000};  // idle client connection between requests
  Millis header_timeout{10000};     // whole request head, from its first byte (slowloris)
  std::size_t max_header_bytes = 32 * 1024;  // beyond: 431
  uint64_t max_body_bytes = 0;               // 0 = unlimited; beyond: 413
  int retries = 1;                           // extra backends to try when one cannot be reached
  int retry_budget_percent = 20;             // retries in flight at most this % of active requests (floor 3)
  Millis tunnel_idle_timeout{3600000};       // an upgraded (WebSocket) connection with no traffic
  bool x_forwarded_headers = true;           // send X-Forwarded-For/-Proto/-Host
  bool forwarded_header = false;             // send RFC 7239 Forwarded
  std::string via_name = "cpp-lb";           // pseudonym in our Via entries
  bool trace_header = false;                 // add X-LB-Trace to responses
  std::string request_id_header;             // --request-id-header; "" off
};

struct ProxyContext {
  const ProxySettings& settings;
  Balancer& balancer;
  RateLimiter* rate_limiter;        // nullptr unless --rate-limit
  const TrustedProxies& trusted_proxies;  // whose X-Forwarded-For names the client
  const TlsClientContext& upstream_tls;   // for https:// backends
  AccessLog* access_log;                  // nullptr unless --access-log
  Metrics metrics;
  ConnectionRegistry registry;
  RetryBudget retry_budget;
  OutlierEjector ejector;
};

}  // namespace lb
