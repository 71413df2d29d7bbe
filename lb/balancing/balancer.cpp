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

namespace {

bool has_url(const BackendList& backends, const std::string& url) {
  return std::any_of(backends.begin(), backends.end(), [&](const auto& b) { return b->url == url; });
}

// A reload keeps the backends of SRV sources the pool still has (until the
// next lookup says otherwise) and drops those of sources it no longer has;
// https:// ones whose pool's TLS files changed go into `retargeted`, as configured ones do.
void carry_discovered(const BackendPool& old_pool, const PoolSettings& settings, BackendList& backends,
                      BackendList& carried, BackendList& retargeted) {
  const bool tls_changed = old_pool.settings.backend_tls != settings.backend_tls;
  for (const auto& existing : old_pool.backends) {
    const std::string& source = existing->spec.discovered_by;
    const bool still = std::any_of(settings.srv_sources.begin(), settings.srv_sources.end(),
                                   [&](const SrvSource& s) { return s.url() == source; });
    if (source.empty() || !still || has_url(backends, existing->url)) continue;
    backends.push_back(existing);
    carried.push_back(existing);
    if (tls_changed && existing->spec.scheme == "https") retargeted.push_back(existing);
  }
}

}  // namespace

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
  BackendList discovered;  // kept from DNS SRV sources still configured: they take the new settings
  BackendList retargeted;  // carried https:// backends whose pool now reaches them with other TLS files
  for (const auto& spec : specs) {
    const BackendPool* old_pool = old ? old->find(spec.settings.name) : nullptr;
    BackendList backends;
    for (const auto& backend_spec : spec.backends) {
      std::shared_ptr<Backend> kept;
      if (old_pool) {
        for (const auto& existing : old_pool->backends) {
          if (existing->spec.discovered_by.empty() && existing->url == backend_spec.url() &&
              existing->spec.max_requests == backend_spec.max_requests) {
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
    if (old_pool) carry_discovered(*old_pool, spec.settings, backends, discovered, retargeted);
    pools.push_back(make_pool(spec.settings, std::move(backends)));
  }
  install(std::move(pools), Router(std::move(routes)));
  for (const auto& backend : discovered) backend->apply(settings);  // DNS, not the configuration, sets their weight
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

DiscoveredChange Balancer::set_discovered(const std::string& name, const SrvSource& source,
                                          std::vector<BackendSpec> wanted) {
  std::lock_guard<std::mutex> lock(change_mutex_);
  auto topology = std::atomic_load(&topology_);
  std::vector<std::shared_ptr<const BackendPool>> pools = topology->pools;
  auto pool = std::find_if(pools.begin(), pools.end(), [&](const auto& p) { return p->settings.name == name; });
  if (pool == pools.end()) return {};
  const auto& sources = (*pool)->settings.srv_sources;
  if (std::find(sources.begin(), sources.end(), source) == sources.end()) return {};
  std::vector<BackendSpec> current;
  for (const auto& backend : (*pool)->backends) {
    if (backend->spec.discovered_by == source.url()) current.push_back(backend->spec);
  }
  // A URL the pool has from elsewhere (its configuration, another source) stays as it is.
  wanted.erase(std::remove_if(wanted.begin(), wanted.end(), [&](const BackendSpec& spec) {
                 return has_url((*pool)->backends, spec.url()) &&
                        std::none_of(current.begin(), current.end(), [&](const auto& c) { return c.url() == spec.url(); });
               }), wanted.end());
  DiscoveredChange change = diff_discovered(current, wanted);
  if (change.empty()) return change;
  BackendList backends;
  for (const auto& backend : (*pool)->backends) {
    const bool mine = backend->spec.discovered_by == source.url();
    const bool removed = std::find(change.removed.begin(), change.removed.end(), backend->url) != change.removed.end();
    const bool reweighted = std::any_of(change.reweighted.begin(), change.reweighted.end(),
                                        [&](const BackendSpec& spec) { return spec.url() == backend->url; });
    if (!mine || !(removed || reweighted)) backends.push_back(backend);
  }
  for (const auto* list : {&change.reweighted, &change.added}) {
    for (const BackendSpec& spec : *list) {
      backends.push_back(std::make_shared<Backend>(spec, settings_, name, /*joins_at_runtime=*/true));
    }
  }
  *pool = make_pool((*pool)->settings, std::move(backends));
  install(std::move(pools), topology->router);
  return change;
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
