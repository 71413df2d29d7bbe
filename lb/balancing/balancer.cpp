#include "lb/balancing/balancer.h"

#include <algorithm>
#include <stdexcept>

namespace lb {

const BackendPool* Topology::find(std::string_view name) const {
  for (const auto& pool : pools) {
    if (pool->settings.name == name) return pool.get();
  }
  return nullptr;
}

BackendList Topology::all_backends() const {
  BackendList all;
  for (const auto& pool : pools) all.insert(all.end(), pool->backends.begin(), pool->backends.end());
  return all;
}

Balancer::Balancer(BackendSettings settings, const std::vector<PoolSpec>& pools, std::vector<Route> routes) {
  reconfigure(settings, pools, std::move(routes));
}

std::shared_ptr<const Topology> Balancer::current() const { return std::atomic_load(&topology_); }

void Balancer::reconfigure(BackendSettings settings, const std::vector<PoolSpec>& specs, std::vector<Route> routes) {
  std::lock_guard<std::mutex> lock(change_mutex_);
  auto old = std::atomic_load(&topology_);
  std::vector<std::shared_ptr<const BackendPool>> pools;
  BackendList carried;  // they take the new settings, weight and drain once the change is sure
  std::vector<const BackendSpec*> carried_specs;  // what the new configuration says of each
  BackendList retargeted;  // carried https:// backends whose pool now reaches them with other TLS files
  for (const auto& spec : specs) {
    const BackendPool* old_pool = old ? old->find(spec.settings.name) : nullptr;
    BackendList backends;
    for (const auto& backend_spec : spec.backends) {
      std::shared_ptr<Backend> kept;
      if (old_pool) {
        for (const auto& existing : old_pool->backends) {
          if (existing->url == backend_spec.url() && existing->spec.max_requests == backend_spec.max_requests) {
            kept = existing;
          }
        }
      }
      if (kept) {
        carried.push_back(kept);
        carried_specs.push_back(&backend_spec);
      }
      if (kept && kept->spec.scheme == "https" && old_pool->settings.backend_tls != spec.settings.backend_tls) {
        retargeted.push_back(kept);
      }
      // Backends new in a reload join at run time (slow start on their first pass).
      backends.push_back(kept ? kept
                              : std::make_shared<Backend>(backend_spec, settings, spec.settings.name,
                                                          /*joins_at_runtime=*/old != nullptr));
    }
    pools.push_back(make_pool(spec.settings, std::move(backends)));
  }
  install(std::move(pools), Router(std::move(routes)));
  for (size_t i = 0; i < carried.size(); ++i) {
    carried[i]->apply(settings);
    carried[i]->set_weight(carried_specs[i]->weight);
    // Only a configuration that says "drain" changes it: one silent on it keeps an admin drain.
    if (carried_specs[i]->draining) carried[i]->draining = *carried_specs[i]->draining;
  }
  // Their idle connections were made with the old CA or client certificate: new ones use the new.
  for (const auto& backend : retargeted) backend->idle_connections().clear();
  settings_ = settings;
}

std::shared_ptr<Backend> Balancer::add(const std::string& pool_name, const BackendSpec& spec, std::string& error) {
  std::lock_guard<std::mutex> lock(change_mutex_);
  auto topology = std::atomic_load(&topology_);
  std::vector<std::shared_ptr<const BackendPool>> pools = topology->pools;
  auto pool = std::find_if(pools.begin(), pools.end(), [&](const auto& p) { return p->settings.name == pool_name; });
  if (pool == pools.end()) {
    error = "no pool named '" + pool_name + "'";
    return nullptr;
  }
  for (const auto& existing : (*pool)->backends) {
    if (existing->url == spec.url()) {
      error = spec.url() + " is already a backend of pool '" + pool_name + "'";
      return nullptr;
    }
  }
  auto added = std::make_shared<Backend>(spec, settings_, pool_name, /*joins_at_runtime=*/true);
  BackendList backends = (*pool)->backends;
  backends.push_back(added);
  *pool = make_pool((*pool)->settings, std::move(backends));
  install(std::move(pools), topology->router);
  return added;
}

bool Balancer::remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(change_mutex_);
  auto topology = std::atomic_load(&topology_);
  std::vector<std::shared_ptr<const BackendPool>> pools = topology->pools;
  for (auto& pool : pools) {
    BackendList backends = pool->backends;
    auto gone = std::remove_if(backends.begin(), backends.end(), [&](const auto& b) { return b->id == id; });
    if (gone == backends.end()) continue;
    backends.erase(gone, backends.end());
    pool = make_pool(pool->settings, std::move(backends));
    install(std::move(pools), topology->router);
    return true;
  }
  return false;
}

std::shared_ptr<Backend> Balancer::find(const std::string& id) const {
  for (const auto& backend : current()->all_backends()) {
    if (backend->id == id) return backend;
  }
  return nullptr;
}

bool Balancer::retune(const std::string& name, const std::function<void(PoolSettings&)>& change) {
  std::lock_guard<std::mutex> lock(change_mutex_);
  auto topology = std::atomic_load(&topology_);
  std::vector<std::shared_ptr<const BackendPool>> pools = topology->pools;
  for (auto& pool : pools) {
    if (pool->settings.name != name) continue;
    PoolSettings settings = pool->settings;
    change(settings);
    pool = make_pool(settings, pool->backends);
    install(std::move(pools), topology->router);
    return true;
  }
  return false;
}

std::shared_ptr<const BackendPool> Balancer::make_pool(const PoolSettings& settings, BackendList backends) {
  auto pool = std::make_shared<BackendPool>();
  pool->settings = settings;
  pool->backends = std::move(backends);
  pool->selector = make_selector(settings.policy.algorithm, pool->backends);  // throws first: nothing changed yet
  std::shared_ptr<PoolShared>& shared = shared_[settings.name];
  if (!shared) shared = std::make_shared<PoolShared>();
  pool->shared = shared;
  for (const auto& backend : pool->backends) {
    const RequestLimit limit = backend->spec.max_requests.value_or(settings.max_requests);
    backend->set_request_limit(limit);
    pool->limited = pool->limited || limit.limited();
  }
  if (!settings.policy.sticky_cookie.empty()) {
    pool->sticky = std::make_unique<StickySessions>(settings.policy.sticky_cookie, pool->backends,
                                                    settings.policy.sticky_secret);
  }
  return pool;
}

void Balancer::install(std::vector<std::shared_ptr<const BackendPool>> pools, Router router) {
  auto topology = std::make_shared<Topology>();
  topology->pools = std::move(pools);
  topology->router = std::move(router);
  for (Route& route : topology->router.routes()) {
    auto named = std::find_if(topology->pools.begin(), topology->pools.end(),
                              [&](const auto& pool) { return pool->settings.name == route.pool; });
    if (named == topology->pools.end()) throw std::invalid_argument("route '" + route.match_text() + "': unknown pool '" + route.pool + "'");
    route.pool_index = static_cast<size_t>(named - topology->pools.begin());
  }
  topology->default_pool = topology->find("default");
  std::atomic_store(&topology_, std::shared_ptr<const Topology>(std::move(topology)));
  generation_.fetch_add(1, std::memory_order_release);
}

}  // namespace lb
