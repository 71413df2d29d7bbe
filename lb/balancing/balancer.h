// The set of backends in service right now, and how to choose among them.
//
// A BackendPool is immutable once built: the backends, the selector over them
// and the sticky-session table. Runtime changes (admin API, SIGHUP reload)
// build a new pool and swap it in atomically; a request keeps the pool it
// started with, so it never sees a half-applied change. Backends that survive
// a change keep their health, counters and idle connections.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "lb/balancing/backend.h"
#include "lb/balancing/selector.h"
#include "lb/balancing/sticky_sessions.h"

namespace lb {

struct BackendPool {
  BackendList backends;
  std::unique_ptr<Selector> selector;
  std::unique_ptr<StickySessions> sticky;  // nullptr unless --sticky-cookie
};

struct BalancingPolicy {
  std::string algorithm = "round-robin";
  std::string sticky_cookie;  // empty: off
  std::string sticky_secret;
};

class Balancer {
 public:
  Balancer(BalancingPolicy policy, BackendSettings settings, const std::vector<BackendSpec>& specs);

  // The pool to use for one request.
  std::shared_ptr<const BackendPool> current() const;
  // Bumped by every change: lets a connection keep its pool until it changes
  // (loading the shared_ptr atomically takes a lock inside libstdc++).
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Replaces backends and policy in one step. Backends with an unchanged URL
  // and weight are carried over with their state.
  void reconfigure(BalancingPolicy policy, BackendSettings settings, const std::vector<BackendSpec>& specs);

  // Admin API: add one backend (nullptr if its URL is already in the pool);
  // remove one by id (false if unknown).
  std::shared_ptr<Backend> add(const BackendSpec& spec);
  bool remove(const std::string& id);
  std::shared_ptr<Backend> find(const std::string& id) const;

 private:
  void install(BackendList backends);  // caller holds change_mutex_

  std::mutex change_mutex_;  // serialises changes (readers never take it)
  BalancingPolicy policy_;   // guards: change_mutex_
  BackendSettings settings_;  // guards: change_mutex_
  std::shared_ptr<const BackendPool> pool_;  // read and written with std::atomic_load/store
  std::atomic<uint64_t> generation_{0};      // incremented after each store of pool_
};

}  // namespace lb
