#include "lb/balancing/srv_discovery.h"

#include <algorithm>

#include "common/log.h"

namespace lb {

namespace {

constexpr Millis kResolveTimeout{2000};  // a backend host name's A/AAAA lookup, per health check
constexpr std::chrono::seconds kLongestSleep{1};  // how soon a source a reload adds is looked up

std::size_t discovered_count(const Balancer& balancer, const std::string& pool, const std::string& source) {
  const auto topology = balancer.current();
  const BackendPool* found = topology->find(pool);
  if (!found) return 0;
  return std::count_if(found->backends.begin(), found->backends.end(),
                       [&](const auto& b) { return b->spec.discovered_by == source; });
}

}  // namespace

DiscoveryDns dns_through(const std::vector<DnsServer>& servers) {
  DiscoveryDns dns;
  dns.lookup_srv = [servers](const std::string& name, Millis timeout, SrvAnswer& answer, std::string& error) {
    return lookup_srv(name, servers, timeout, answer, error);
  };
  dns.resolves = [servers](const std::string& host, Millis timeout) {
    std::string error;
    // Without --resolver, as the health checks will resolve it: getaddrinfo (which reads /etc/hosts too).
    return servers.empty() ? !resolve_host(host, 80, error).empty()
                           : !lookup_addresses(host, 80, servers, timeout, error).empty();
  };
  return dns;
}

Resolver backend_resolver(const std::vector<DnsServer>& servers) {
  if (servers.empty()) return system_resolver();
  return [servers](const Backend& backend, std::string& error) {
    ResolvedAddresses found = lookup_addresses(backend.spec.host, backend.spec.port, servers, kResolveTimeout, error);
    // Resolvers that do not answer (down, restarting) keep the addresses last
    // resolved, as HAProxy's resolvers do: only an answer that the name has no
    // address takes the backend down. (Discovery logs the outage.)
    const auto last = backend.addresses();
    if (found.empty() && !name_has_no_address(error) && last && !last->empty()) return *last;
    return found;
  };
}

SrvDiscovery::SrvDiscovery(Balancer& balancer, DiscoveryDns dns, std::function<void()> backends_added)
    : balancer_(balancer), dns_(std::move(dns)), backends_added_(std::move(backends_added)) {}

SrvDiscovery::~SrvDiscovery() { stop(); }

std::vector<SrvDiscovery::Source> SrvDiscovery::sources() const {
  std::vector<Source> found;
  const auto topology = balancer_.current();
  for (const auto& pool : topology->pools) {
    const PoolSettings& settings = pool->settings;
    for (const SrvSource& source : settings.srv_sources) {
      found.push_back({settings.name, source, settings.health_interval, settings.health_timeout, pool->shared});
    }
  }
  return found;
}

void SrvDiscovery::refresh_all() {
  for (const Source& source : sources()) {
    refresh(source);
    timetable_[source.key()] = std::chrono::steady_clock::now() + source.interval;
  }
}

bool SrvDiscovery::refresh(const Source& source) {
  const std::string& name = source.source.name;
  SrvAnswer answer;
  std::string error;
  bool ok = dns_.lookup_srv(name, source.timeout, answer, error);
  std::vector<std::string> skipped;
  std::vector<BackendSpec> wanted;
  if (ok) {
    auto resolves = [&](const std::string& target) {
      return answer.additional.count(target) > 0 || dns_.resolves(target, source.timeout);
    };
    wanted = backends_from_srv(source.source, answer.records, resolves, skipped);
    // An answer that leaves nothing usable is treated as a failure: the last good one keeps serving.
    if (wanted.empty()) {
      ok = false;
      error = "no usable records";
    }
  }
  source.shared->discovery.record(source.source.url(), ok, error, std::chrono::system_clock::now());
  SourceState& state = states_[source.key()];
  if (skipped != state.skipped) {
    for (const std::string& record : skipped) common::log_line("[Discovery] " + name + ": skipping " + record);
    state.skipped = skipped;
  }
  const std::size_t kept = discovered_count(balancer_, source.pool, source.source.url());
  if (!ok) {
    if (!state.failing) {
      common::log_line("[Discovery] " + name + ": lookup failed (" + error + "); keeping " + std::to_string(kept) +
                       " backends");
    }
    state.failing = true;
    return false;
  }
  if (state.failing) {
    common::log_line("[Discovery] " + name + ": lookup answers again (" + std::to_string(wanted.size()) +
                     " backends)");
  }
  state.failing = false;
  const DiscoveredChange change = balancer_.set_discovered(source.pool, source.source, wanted);
  log_change(source, change);
  return !change.added.empty() || !change.reweighted.empty();
}

void SrvDiscovery::log_change(const Source& source, const DiscoveredChange& change) const {
  const std::string prefix = "[Discovery] " + source.source.name + ": ";
  const std::string in = " (pool " + source.pool + ")";
  for (const auto& spec : change.added) {
    common::log_line(prefix + "added " + spec.url() + " weight=" + std::to_string(spec.weight) + in);
  }
  for (const auto& spec : change.reweighted) {
    common::log_line(prefix + spec.url() + " now weight=" + std::to_string(spec.weight) + in);
  }
  for (const auto& url : change.removed) common::log_line(prefix + "removed " + url + ", draining" + in);
}

void SrvDiscovery::start() { thread_ = std::thread([this] { loop(); }); }

void SrvDiscovery::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SrvDiscovery::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    auto wake = std::chrono::steady_clock::now() + kLongestSleep;
    bool added = false;
    for (const Source& source : sources()) {
      // A source seen for the first time (a reload added it) is due now.
      auto next = timetable_.try_emplace(source.key(), std::chrono::steady_clock::now()).first;
      if (next->second <= std::chrono::steady_clock::now()) {
        added = refresh(source) || added;
        next->second = std::chrono::steady_clock::now() + source.interval;
      }
      wake = std::min(wake, next->second);
    }
    if (added && backends_added_) backends_added_();
    lock.lock();
    wake_.wait_until(lock, wake, [this] { return stopping_; });
  }
}

}  // namespace lb
