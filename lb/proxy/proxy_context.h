// What every client connection shares: settings, the selector, the registry.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "lb/balancing/balancer.h"
#include "lb/balancing/outlier_ejector.h"
#include "lb/operations/access_log.h"
#include "lb/operations/connection_registry.h"
#include "lb/operations/metrics.h"
#include "lb/operations/refusal_log.h"
#include "lb/operations/request_log.h"
#include "lb/operations/span_exporter.h"
#include "lb/protection/access_list.h"
#include "lb/protection/rate_limiter.h"
#include "lb/protection/retry_budget.h"
#include "lb/protection/trusted_proxies.h"
#include "lb/transport/stream.h"
#include "lb/transport/tls_context.h"

namespace httplib {
class TaskQueue;  // common/thread_per_connection_queue.h implements it
}

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
  std::vector<int> retry_on_status;          // --retry-on-status: answers (5xx) retried elsewhere like a failure
  int retry_budget_percent = 20;             // retries at most this % of the requests of the last 10 s (floor 3/s)
  Millis tunnel_idle_timeout{3600000};       // an upgraded (WebSocket) connection with no traffic
  bool x_forwarded_headers = true;           // send X-Forwarded-For/-Proto/-Host
  bool forwarded_header = false;             // send RFC 7239 Forwarded
  std::string via_name = "cpp-lb";           // pseudonym in our Via entries
  bool trace_header = false;                 // add X-LB-Trace to responses
  std::string request_id_header;             // --request-id-header; "" off
  bool h2c = false;                          // --h2c: HTTP/2 with prior knowledge on plain listeners
  uint32_t h2_max_streams = 100;             // --h2-max-streams: concurrent streams per HTTP/2 connection
  bool compress = false;                     // --compress: textual responses compressed (a route may say otherwise)
  uint64_t compress_min_size = 1024;         // --compress-min-size: smaller bodies (by Content-Length) pass as they are
};

// What a reload (SIGHUP) swaps besides pools and routes, as one immutable
// snapshot: a connection takes the current one before each request (and its
// TLS context before its handshake) and keeps it until the next, so a request
// never mixes old and new settings and an open TLS connection keeps its certificate.
struct LiveSettings {
  ProxySettings proxy;
  std::shared_ptr<ClientLimiter> rate_limiter;  // nullptr unless --rate-limit (local or in Redis)
  TrustedProxies trusted_proxies;               // whose X-Forwarded-For names the client
  TrustedProxies proxy_protocol_from;           // peers that must begin with a PROXY header
  AccessList access;                            // --allow / --deny, before any route's own
  std::shared_ptr<const TlsServerContext> tls;  // nullptr: plain HTTP
};

class LiveSettingsStore {
 public:
  explicit LiveSettingsStore(std::shared_ptr<const LiveSettings> first) : current_(std::move(first)) {}
  std::shared_ptr<const LiveSettings> current() const { return std::atomic_load(&current_); }
  // Bumped by every replace(): a connection reloads only when it moved.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  void replace(std::shared_ptr<const LiveSettings> next) {
    std::atomic_store(&current_, std::move(next));
    generation_.fetch_add(1, std::memory_order_release);
  }

 private:
  std::shared_ptr<const LiveSettings> current_;  // read and written with std::atomic_load/store
  std::atomic<uint64_t> generation_{0};
};

// A connection's copy of what is swapped whole at run time (LiveSettingsStore,
// Balancer): reloaded only when the source's generation has moved, so a
// request costs one atomic load rather than a shared refcount.
template <typename T>
struct Snapshot {
  std::shared_ptr<const T> value;
  uint64_t generation = 0;  // the source's generation() when `value` was loaded

  // True when it was (re)loaded.
  template <typename Source>
  bool refresh(const Source& source) {
    if (value && generation == source.generation()) return false;
    generation = source.generation();
    value = source.current();
    return true;
  }
};

struct ProxyContext {
  LiveSettingsStore live;
  Balancer& balancer;                     // its pools carry their https:// backends' TLS context
  AccessLog* access_log;                  // nullptr unless --access-log
  Metrics& metrics;
  ConnectionRegistry registry;
  RetryBudget retry_budget;
  OutlierEjector ejector;
  // PROXY headers missing, malformed or from untrusted peers: counted, logged once a minute per address.
  RefusalLog proxy_header_refusals{metrics.proxy_header_refused};
  // HTTP/2 streams' worker threads (set by ProxyServer, which owns them).
  httplib::TaskQueue* stream_workers = nullptr;
  RequestLog* request_log = nullptr;  // the admin server's live request view; nullptr without --admin-port
  SpanExporter* spans = nullptr;      // --otlp-endpoint: where requests' spans go; nullptr without
  // Basic auth's failed attempts per client (README "Access control"): 10,
  // then one more every 6 s; over it a client gets 429 and no hash is computed.
  RateLimiter login_failures{1.0 / 6, 10};
};

}  // namespace lb
