// The operator's side door (--admin-port), on cpp-httplib, 127.0.0.1 by default:
//   GET  /status                    JSON: every backend, algorithm, uptime
//   GET  /metrics                   Prometheus text
//   GET  /                          live dashboard page (HTML + JS served from the binary)
//   POST /backends                  add {"url": "...", "weight": N, "pool": "default"}
//   DELETE /backends/{id}           remove (in-flight requests finish)
//   POST /backends/{id}/drain       stop sending new requests
//   POST /backends/{id}/enable      undo drain
//   PUT  /backends/{id}/weight      {"weight": N}, 1-1000
//   PUT  /backends/{id}/fault       inject a fault {"abort_percent", "abort_status", "delay_ms",
//                                   "delay_percent", "fail_health"}; DELETE clears it
//   GET  /requests                  the last 200 requests, newest first, with their decision trace
//   GET  /requests/stream           each new one as a Server-Sent Event
// With --admin-token, every request needs `Authorization: Bearer <token>`.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "lb/acme/certificate_manager.h"
#include "lb/balancing/balancer.h"
#include "lb/operations/backend_change.h"
#include "lb/operations/background_http_server.h"
#include "lb/operations/connection_registry.h"
#include "lb/operations/metrics.h"
#include "lb/operations/request_log.h"

namespace lb {

// What the admin endpoints read and change. All of it outlives the AdminServer.
struct AdminContext {
  Balancer& balancer;
  const Metrics& metrics;
  const ConnectionRegistry& registry;
  std::chrono::steady_clock::time_point started;
  std::function<void()> check_health_soon;  // a new backend is probed now, not after an interval
  const RequestLog& requests;               // the live request view
  const acme::CertificateManager* certificates = nullptr;  // --acme-domain's; nullptr without ACME
  SharedConfigHooks shared_config{};  // --config-etcd: backend changes are written there too
};

class AdminServer {
 public:
  AdminServer(AdminContext context, std::string token);

  // Binds address:port (0: a free port) and serves on a background thread.
  // Returns the bound port, or -1 with `error` set.
  int start(const std::string& address, int port, std::string& error, int inherited_fd = -1) {
    return http_.start(address, port, error, inherited_fd);
  }
  BackgroundHttpServer& listener() { return http_; }
  void stop() { http_.stop(); }

 private:
  void install_routes();
  void install_fault_routes();
  void install_pool_routes();
  void install_request_view_routes();
  void install_weight_route();
  // With --config-etcd, writes `change` there too; a failure is added to `body` as "shared_config_error".
  void share(const BackendChange& change, nlohmann::json& body);

  AdminContext context_;
  std::string token_;
  std::atomic<int> open_streams_{0};  // GET /requests/stream responses in progress
  BackgroundHttpServer http_;
};

}  // namespace lb
