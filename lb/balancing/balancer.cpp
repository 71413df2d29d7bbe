#include "lb/balancing/balancer.h"

#include <algorithm>

namespace lb {

Balancer::Balancer(BalancingPolicy policy, BackendSettings settings, const std::vector<BackendSpec>& specs) {
  reconfigure(std::move(policy), settings, specs);
}

std::shared_ptr<const BackendPool> Balancer::current() const { return std::atomic_load(&pool_); }

void Balancer::reconfigure(BalancingPolicy policy, BackendSettings settings, const std::vector<BackendSpec>& specs) {
  std::lock_guard<std::mutex> lock(change_mutex_);
  auto old_pool = std::atomic_load(&pool_);
  BackendList backends;
  for (const auto& spec : specs) {
    std::shared_ptr<Backend> kept;
    if (old_pool) {
      for (const auto& existing : old_pool->backends) {
        if (existing->url == spec.url() && existing->weight() == spec.weight) kept = existing;
      }
    }
    // Backends new in a reload join at run time (slow start on their first pass).
    backends.push_back(kept ? kept : std::make_shared<Backend>(spec, settings, /*joins_at_runtime=*/old_pool != nullptr));
  }
  policy_ = std::move(policy);
  settings_ = settings;
  install(std::move(backends));
}

std::shared_ptr<Backend> Balancer::add(const BackendSpec& spec) {
  std::lock_guard<std::mutex> lock(change_mutex_);
  auto pool = std::atomic_load(&pool_);
  for (const auto& existing : pool->backends) {
    if (existing->url == spec.url()) return nullptr;
  }
  auto added = std::make_shared<Backend>(spec, settings_, /*joins_at_runtime=*/true);
  BackendList backends = pool->backends;
  backends.push_back(added);
  install(std::move(backends));
  return added;
}

bool Balancer::remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(change_mutex_);
  auto pool = std::atomic_load(&pool_);
  BackendList backends = pool->backends;
  auto gone = std::remove_if(backends.begin(), backends.end(), [&](const auto& b) { return b->id == id; });
  if (gone == backends.end()) return false;
  backends.erase(gone, backends.end());
  install(std::move(backends));
  return true;
}

std::shared_ptr<Backend> Balancer::find(const std::string& id) const {
  for (const auto& backend : current()->backends) {
    if (backend->id == id) return backend;
  }
  return nullptr;
}

void Balancer::install(BackendList backends) {
  auto pool = std::make_shared<BackendPool>();
  pool->backends = std::move(backends);
  pool->selector = make_selector(policy_.algorithm, pool->backends);
  if (!policy_.sticky_cookie.empty()) {
    pool->sticky = std::make_unique<StickySessions>(policy_.sticky_cookie, pool->backends, policy_.sticky_secret);
  }
  std::atomic_store(&pool_, std::shared_ptr<const BackendPool>(std::move(pool)));
  generation_.fetch_add(1, std::memory_order_release);
}

}  // namespace lb
