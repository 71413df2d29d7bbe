// The pools of backends in service right now, the routes between them, and
// how to choose within a pool.
//
// A Topology is immutable once built: every pool (its backends, the selector
// over them, its sticky-session table and health settings) and the Router.
// Runtime changes (admin API, SIGHUP reload) build a new Topology and swap it
// in atomically; a request keeps the one it started with, so it never sees a
// half-applied change (routes naming a pool that is not there yet). Backends
// that survive a change keep their health, counters and idle connections, and
// an unchanged pool keeps its selector's place in the rotation.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "lb/balancing/backend.h"
#include "lb/balancing/discovery_reports.h"
#include "lb/balancing/pool_queue.h"
#include "lb/balancing/pool_tuning.h"
#include "lb/balancing/response_times.h"
#include "lb/balancing/selector.h"
#include "lb/balancing/srv_records.h"
#include "lb/balancing/sticky_sessions.h"
#include "lb/routing/router.h"
#include "lb/transport/tls_context.h"

namespace lb {

struct BalancingPolicy {
  std::string algorithm = "round-robin";
  std::string sticky_cookie;  // empty: off
  std::string sticky_secret;
};

// What a pool has of its own (README "Several services": per-pool settings override the top-level ones).
struct PoolSettings {
  std::string name = "default";
  BalancingPolicy policy;  // algorithm, sticky cookie
  std::string health_path = "/health";
  std::chrono::milliseconds health_interval{5000};
  std::chrono::milliseconds health_timeout{2000};  // --health-timeout (the same for every pool)
  RequestLimit max_requests{};  // --max-requests: each backend's limit
  QueueSettings queue{};      // --queue-timeout, --queue-size (the same for every pool)
  HedgePolicy hedge{};        // --hedge-after
  TlsClientFiles backend_tls{};  // --backend-ca/-cert/-key, --backend-insecure: how its https:// backends are reached
  // Those files loaded (lb/config/live_config.h, at start and by each reload;
  // pools with the same files share one); nullptr: never loaded (tests).
  std::shared_ptr<const TlsClientContext> backend_tls_context{};
  // Its `srv+http://NAME` backend entries (README "Backends from DNS SRV"): the
  // discovery thread keeps the backends they name in the pool.
  std::vector<SrvSource> srv_sources{};
};

// What a pool keeps while its settings and backends change (admin API,
// reload): the requests waiting for a place, and its recent response times.
struct PoolShared {
  PoolQueue queue;
  ResponseTimes response_times;
  DiscoveryReports discovery;  // its SRV sources' last lookups
};

// One pool as configured.
struct PoolSpec {
  PoolSettings settings;
  std::vector<BackendSpec> backends;
};

struct BackendPool {
  PoolSettings settings;
  BackendList backends;
  std::unique_ptr<Selector> selector;
  std::unique_ptr<StickySessions> sticky;  // nullptr unless the pool has a sticky cookie
  std::shared_ptr<PoolShared> shared = std::make_shared<PoolShared>();  // the Balancer gives the one of its name

  bool limited = false;  // some backend has a --max-requests limit (its own, or the pool's)
  // The queue, for a BackendPlace to give its place back through (nullptr without limits).
  std::shared_ptr<PoolQueue> queue_for_places() const {
    return limited ? std::shared_ptr<PoolQueue>(shared, &shared->queue) : nullptr;
  }
};

struct Topology {
  std::vector<std::shared_ptr<const BackendPool>> pools;  // in the order they were configured
  Router router;  // empty: every request goes to the pool "default"
  const BackendPool* default_pool = nullptr;  // the pool "default", if there is one

  const BackendPool* find(std::string_view name) const;
  BackendList all_backends() const;
};

class Balancer {
 public:
  // Throws std::invalid_argument if a route names a pool that is not given.
  Balancer(BackendSettings settings, const std::vector<PoolSpec>& pools, std::vector<Route> routes);

  // The pools and routes to use for one request.
  std::shared_ptr<const Topology> current() const;
  // Bumped by every change: lets a connection keep its Topology until it changes
  // (loading the shared_ptr atomically takes a lock inside libstdc++).
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Replaces pools and routes in one step (SIGHUP). Backends with an unchanged
  // pool, URL and max_requests are carried over with their state and take the
  // new BackendSettings (Backend::apply()), weight and, when the spec says so,
  // drain; an https:// one whose pool's TLS files
  // changed loses its idle connections (made with the old ones). Throws
  // std::invalid_argument, changing nothing, if a route names an unknown pool.
  void reconfigure(BackendSettings settings, const std::vector<PoolSpec>& pools, std::vector<Route> routes);

  // Admin API: add one backend to a pool (nullptr and `error` set if the pool
  // is unknown or has that URL already); remove one by id (false if unknown).
  std::shared_ptr<Backend> add(const std::string& pool, const BackendSpec& spec, std::string& error);
  bool remove(const std::string& id);
  std::shared_ptr<Backend> find(const std::string& id) const;
  // Admin API (PUT /pools/{name}): `change` edits a copy of the pool's
  // settings (algorithm, limit, hedging), which then replace them. False if
  // the pool is unknown; throws std::invalid_argument (nothing changed) for
  // an unknown algorithm.
  bool retune(const std::string& pool, const std::function<void(PoolSettings&)>& change);
  // DNS SRV discovery: makes the backends `source` gives `pool` be `wanted`
  // (added ones join at run time; removed ones finish their requests, as with
  // remove(); a new weight replaces the Backend, as a reload would). A URL the
  // pool has from its configuration is left alone. Returns what changed;
  // nothing if the pool is gone or no longer has that source (a reload).
  DiscoveredChange set_discovered(const std::string& pool, const SrvSource& source, std::vector<BackendSpec> wanted);

 private:
  // Builds a pool (selector, sticky table, limits) over `backends`; caller holds change_mutex_.
  std::shared_ptr<const BackendPool> make_pool(const PoolSettings& settings, BackendList backends);
  // Resolves the routes' pools and swaps the new Topology in; caller holds
  // change_mutex_. Throws std::invalid_argument (nothing swapped) for an unknown pool.
  void install(std::vector<std::shared_ptr<const BackendPool>> pools, Router router);

  std::mutex change_mutex_;    // serialises changes (readers never take it)
  BackendSettings settings_;   // guards: change_mutex_
  std::map<std::string, std::shared_ptr<PoolShared>> shared_;  // guards: change_mutex_; by pool name
  std::shared_ptr<const Topology> topology_;  // read and written with std::atomic_load/store
  std::atomic<uint64_t> generation_{0};       // incremented after each store of topology_
};

}  // namespace lb
