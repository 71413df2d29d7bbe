#include "lb/operations/discovery_report.h"

#include <algorithm>

#include "common/log.h"

namespace lb {

namespace {

std::size_t backends_from(const BackendPool& pool, const SrvSource& source) {
  return std::count_if(pool.backends.begin(), pool.backends.end(),
                       [&](const auto& b) { return b->spec.discovered_by == source.url(); });
}

// Pool names are [A-Za-z0-9_-] and SRV names [a-z0-9._-]: nothing to escape in a label.
std::string labels(const BackendPool& pool, const SrvSource& source) {
  return "pool=\"" + pool.settings.name + "\",name=\"" + source.name + "\"";
}

}  // namespace

nlohmann::json discovery_status(const BackendPool& pool) {
  nlohmann::json sources = nlohmann::json::array();
  const auto reports = pool.shared->discovery.snapshot();
  for (const SrvSource& source : pool.settings.srv_sources) {
    nlohmann::json last = nullptr;  // none yet
    if (auto report = reports.find(source.url()); report != reports.end()) {
      const SrvLookupReport& r = report->second;
      last = {{"ok", r.ok}, {"error", r.error}, {"time", common::utc_timestamp(r.when)},
              {"ok_total", r.ok_total}, {"failed_total", r.failed_total}};
    }
    sources.push_back({{"url", source.url()}, {"name", source.name}, {"backends", backends_from(pool, source)},
                       {"last_lookup", last}});
  }
  return sources;
}

std::string discovery_metrics(const Topology& topology) {
  const bool any = std::any_of(topology.pools.begin(), topology.pools.end(),
                               [](const auto& pool) { return !pool->settings.srv_sources.empty(); });
  if (!any) return "";  // no family is announced without samples
  std::string out =
      "# HELP lb_discovery_lookups_total DNS SRV lookups of a pool's srv+http:// source, by result.\n"
      "# TYPE lb_discovery_lookups_total counter\n";
  std::string gauge =
      "# HELP lb_discovery_backends Backends a pool has from its srv+http:// source now.\n"
      "# TYPE lb_discovery_backends gauge\n";
  for (const auto& pool : topology.pools) {
    const auto reports = pool->shared->discovery.snapshot();
    for (const SrvSource& source : pool->settings.srv_sources) {
      SrvLookupReport counts;
      if (auto report = reports.find(source.url()); report != reports.end()) counts = report->second;
      const std::string at = labels(*pool, source);
      out += "lb_discovery_lookups_total{" + at + ",result=\"ok\"} " + std::to_string(counts.ok_total) + "\n";
      out += "lb_discovery_lookups_total{" + at + ",result=\"failed\"} " + std::to_string(counts.failed_total) + "\n";
      gauge += "lb_discovery_backends{" + at + "} " + std::to_string(backends_from(*pool, source)) + "\n";
    }
  }
  return out + gauge;
}

}  // namespace lb
