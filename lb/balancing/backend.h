// One upstream server and everything the load balancer knows about it.
//
// Like nginx's upstream peer, a Backend owns its own counters. Selection reads
// `healthy` and `active_requests` without a lock (atomics); health changes go
// through record_check()/mark_down(), which serialise on `health_mutex_`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lb/balancing/backend_url.h"
#include "lb/balancing/health_state.h"
#include "lb/balancing/passive_health.h"
#include "lb/balancing/concurrency_limit.h"
#include "lb/balancing/latency_estimate.h"
#include "lb/balancing/pool_tuning.h"
#include "lb/protection/circuit_breaker.h"
#include "lb/protection/fault_injection.h"
#include "lb/transport/idle_connections.h"

namespace lb {

struct BackendSettings {
  int rise = 1;                          // passing checks to come back
  int fall = 1;                          // failing checks to be taken out
  // Enough for every request in flight at 1,000 client connections: a
  // smaller pool closes connections when the load dips and opens them again
  // in bursts when it rises, and a backend that accepts one connection per
  // event-loop turn (nginx) answers those 0.3-1 s late (README, Performance).
  std::size_t max_idle_connections = 1024;
  std::chrono::milliseconds max_idle_time{30000};
  CircuitSettings circuit;
  std::chrono::milliseconds slow_start{0};  // --slow-start: ramp after a return; 0 = off
  std::chrono::milliseconds latency_decay{10000};  // --latency-decay: least-latency's memory
};

// The outcome of the latest health observation, for logs and /status.
struct LastCheck {
  bool passed = false;
  std::string detail;  // "200", "connection refused", ...
  std::chrono::system_clock::time_point when{};
};

class Backend {
 public:
  using Clock = std::chrono::steady_clock;

  // `pool_name`: the pool it serves in. `joins_at_runtime`: added by the admin API
  // or a reload, so its first passed check is a return to service (slow
  // start), not the start-up round.
  Backend(BackendSpec spec, const BackendSettings& settings, std::string pool_name = "default",
          bool joins_at_runtime = false);

  const BackendSpec spec;
  const std::string pool_name;  // the pool it serves in ("default" without pools)
  const std::string url;  // canonical, e.g. "http://127.0.0.1:8001"
  const std::string id;   // short stable opaque id derived from the pool and URL
  const std::string host_header;  // "host[:port]", sent when a request has no Host (HTTP/1.0)

  // Its weight now: spec.weight until an admin change or a reload sets another.
  int weight() const { return weight_.load(std::memory_order_relaxed); }
  void set_weight(int weight) { weight_.store(weight, std::memory_order_relaxed); }
  bool healthy() const { return healthy_.load(std::memory_order_acquire); }

  // Records an active health-check result. Returns true when the backend's
  // verdict flipped (the caller logs the change).
  bool record_check(bool passed, const std::string& detail);
  // Passive failure seen while proxying (e.g. connection refused): out of
  // rotation at once, until active checks bring it back. True if it flipped.
  bool mark_down(const std::string& detail);
  LastCheck last_check() const;

  // Outlier ejection (see OutlierEjector and PassiveHealth): out of rotation until a time.
  bool ejected(Clock::time_point now) const { return passive_.ejected(now); }
  // Ejects until `until`; slow start (if on) ramps from then. False when
  // PassiveHealth refused (the circuit is not closed, or it is ejected already).
  bool eject_until(Clock::time_point until, Clock::time_point now);
  Clock::time_point ejected_until() const { return passive_.ejected_until(); }
  // True once, for the first call after an ejection ended (the caller logs it).
  bool take_ejection_end(Clock::time_point now) { return passive_.take_ejection_end(now); }

  // The weight to balance with now, in hundredths: weight() x 100 normally;
  // during --slow-start after a return to service, from 10% up to that.
  long selection_weight(Clock::time_point now) const;
  // New thresholds, circuit settings, keep-alive cap and ramp (SIGHUP): the
  // backend keeps its health, counters, circuit state and idle connections.
  void apply(const BackendSettings& settings);
  // Starts a slow-start ramp at `from` (a return: health, circuit closed, ejection over).
  void start_ramp(Clock::time_point from);

  // What its host name resolved to at the latest health check (nullptr before
  // the first): new connections go there, so a backend follows DNS changes.
  std::shared_ptr<const ResolvedAddresses> addresses() const { return std::atomic_load(&addresses_); }
  // Stores a fresh resolution; true when it differs from the one before (then
  // idle connections to the old addresses are closed).
  bool set_addresses(ResolvedAddresses addresses);

  // Fault injection (admin API): off at start and never saved; a reload keeps it.
  // An inactive fault clears it.
  void set_fault(const FaultSettings& fault);
  // The fault in force, if any: one atomic load on the request path when there is none.
  std::optional<FaultSettings> fault() const;

  IdleConnections& idle_connections() { return idle_connections_; }

  // What least-latency (latency_estimate.h) and an auto limit
  // (concurrency_limit.h) know of this backend: an attempt begins, and ends
  // with its time to the first response byte.
  struct LatencyTicket {
    std::multiset<Clock::time_point>::iterator started;
    int in_flight = 0;  // requests it held, this one included, when it began
  };
  LatencyTicket latency_begin(Clock::time_point now);
  void latency_end(LatencyTicket ticket, double first_byte_ms, bool failed, Clock::time_point now);
  // It ended without telling anything (a hedge that lost the race).
  void latency_cancel(LatencyTicket ticket);
  // The decayed average, or the oldest request's age; none until it has answered once.
  std::optional<double> latency_ms(Clock::time_point now) const;
  // Passive health: the circuit breaker and outlier ejection as one state.
  PassiveHealth& passive_health() { return passive_; }
  const PassiveHealth& passive_health() const { return passive_; }
  CircuitBreaker& breaker() { return passive_.breaker(); }
  const CircuitBreaker& breaker() const { return passive_.breaker(); }

  // --max-requests (README "Queues and overload"): how many requests it may
  // hold at once; its pool's queue hands places out (pool_queue.h).
  void set_request_limit(const RequestLimit& limit);
  int max_requests() const { return max_requests_.load(std::memory_order_relaxed); }  // now; 0: no limit
  bool has_room() const {
    const int limit = max_requests();
    return limit == 0 || active_requests.load(std::memory_order_relaxed) < limit;
  }
  // Counts one more request in flight (and sent); the "try" form only while it has room.
  void take_place();
  bool try_take_place();

  // Taken out of rotation by an operator (admin API): in-flight requests finish.
  std::atomic<bool> draining{false};

  std::atomic<int> active_requests{0};     // requests being forwarded right now
  std::atomic<uint64_t> requests_total{0};  // requests sent to this backend
  std::atomic<uint64_t> failures_total{0};  // connect errors, timeouts, bad responses
  std::atomic<uint64_t> responses_by_class[6] = {};  // [1..5]: 1xx..5xx relayed; [0]: no response
  std::atomic<uint64_t> checks_passed{0};
  std::atomic<uint64_t> checks_failed{0};
  std::atomic<uint64_t> ejections_total{0};
  std::atomic<uint64_t> faults_aborted{0};  // attempts answered by an injected abort
  std::atomic<uint64_t> faults_delayed{0};  // attempts held back by an injected delay
  std::atomic<uint64_t> faults_slowed{0};   // answers held back by an injected slow_factor

 private:
  static constexpr int64_t kNoRamp = INT64_MIN;
  std::atomic<int> weight_{1};               // 1..1000
  std::atomic<int64_t> slow_start_;          // steady_clock ticks of --slow-start; 0: off
  std::atomic<int64_t> ramp_from_{kNoRamp};  // steady_clock ticks the slow-start ramp began
  std::atomic<bool> checked_before_;         // false until the first check of a start-up backend
  std::atomic<bool> healthy_{false};
  mutable std::mutex health_mutex_;
  HealthState health_;    // guards: health_mutex_
  LastCheck last_check_;  // guards: health_mutex_
  std::atomic<bool> has_fault_{false};  // fault_ is set (checked before taking fault_mutex_)
  mutable std::mutex fault_mutex_;
  FaultSettings fault_;  // guards: fault_mutex_
  IdleConnections idle_connections_;  // keep-alive connections to it, not in use
  PassiveHealth passive_;
  std::atomic<int> max_requests_{0};
  mutable std::mutex latency_mutex_;
  LatencyEstimate latency_;  // guards: latency_mutex_
  bool auto_limit_ = false;  // guards: latency_mutex_; max_requests_ follows concurrency_limit_
  ConcurrencyLimit concurrency_limit_;  // guards: latency_mutex_
  std::shared_ptr<const ResolvedAddresses> addresses_;  // read and written with std::atomic_load/store
};

using BackendList = std::vector<std::shared_ptr<Backend>>;

}  // namespace lb
