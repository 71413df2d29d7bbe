// The DNS SRV part of /status and /metrics (lb/operations/discovery_report.h).
#include <catch2/catch.hpp>

#include "lb/balancing/selector.h"
#include "lb/operations/discovery_report.h"
#include "lb/operations/status_report.h"

using namespace lb;

namespace {

// A pool "default" with one SRV source, one backend it gave and one configured.
Topology srv_topology() {
  auto pool = std::make_shared<BackendPool>();
  pool->settings.srv_sources.push_back({"http", "_http._tcp.web.test"});
  BackendSpec discovered = parse_backend_spec("http://web1.test:8001,weight=10");
  discovered.discovered_by = "srv+http://_http._tcp.web.test";
  pool->backends.push_back(std::make_shared<Backend>(discovered, BackendSettings{}));
  pool->backends.push_back(std::make_shared<Backend>(parse_backend_spec("http://127.0.0.1:9000"), BackendSettings{}));
  pool->selector = make_selector("round-robin", pool->backends);
  Topology topology;
  topology.pools.push_back(pool);
  topology.default_pool = pool.get();
  return topology;
}

}  // namespace

TEST_CASE("a pool's SRV sources in /status: their backends and last lookup", "[metrics][srv]") {
  Topology topology = srv_topology();
  const BackendPool& pool = *topology.pools[0];
  nlohmann::json before = pool_status(pool)["srv_sources"];
  REQUIRE(before.size() == 1);
  CHECK(before[0]["url"] == "srv+http://_http._tcp.web.test");
  CHECK(before[0]["backends"] == 1);
  CHECK(before[0]["last_lookup"].is_null());  // not looked up yet
  pool.shared->discovery.record("srv+http://_http._tcp.web.test", false, "timeout", std::chrono::system_clock::now());
  nlohmann::json after = pool_status(pool)["srv_sources"][0]["last_lookup"];
  CHECK(after["ok"] == false);
  CHECK(after["error"] == "timeout");
  CHECK(after["failed_total"] == 1);
  CHECK(backend_status(*pool.backends[0])["discovered_by"] == "srv+http://_http._tcp.web.test");
  CHECK(backend_status(*pool.backends[1])["discovered_by"] == "");
}

TEST_CASE("lb_discovery_* metrics per pool and SRV name, none without sources", "[metrics][srv]") {
  Topology topology = srv_topology();
  const BackendPool& pool = *topology.pools[0];
  const std::string source = "srv+http://_http._tcp.web.test";
  pool.shared->discovery.record(source, true, "", std::chrono::system_clock::now());
  pool.shared->discovery.record(source, true, "", std::chrono::system_clock::now());
  pool.shared->discovery.record(source, false, "timeout", std::chrono::system_clock::now());
  const std::string text = metrics_text(topology, Metrics{}, 0);
  CHECK_THAT(text, Catch::Contains("lb_discovery_lookups_total{pool=\"default\",name=\"_http._tcp.web.test\",result=\"ok\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("lb_discovery_lookups_total{pool=\"default\",name=\"_http._tcp.web.test\",result=\"failed\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("lb_discovery_backends{pool=\"default\",name=\"_http._tcp.web.test\"} 1\n"));
  Topology plain;
  plain.pools.push_back(std::make_shared<BackendPool>());
  CHECK(discovery_metrics(plain).empty());
}
