// SrvDiscovery with a fake DNS: lookups change the pool through
// Balancer::set_discovered; failures keep the last answer; a reload keeps
// the backends of sources still configured.
#include <catch2/catch.hpp>

#include <map>

#include "lb/balancing/srv_discovery.h"

using namespace lb;

namespace {

const SrvSource kWeb{"http", "_http._tcp.web.test"};

// Answers from a table; a name missing from it fails with "no such name".
struct FakeDns {
  std::map<std::string, std::vector<SrvRecord>> records;
  int lookups = 0;
  DiscoveryDns dns() {
    return {[this](const std::string& name, Millis, SrvAnswer& answer, std::string& error) {
              ++lookups;
              auto found = records.find(name);
              if (found == records.end()) {
                error = "no such name";
                return false;
              }
              answer.records = found->second;
              return true;
            },
            [](const std::string& host, Millis) { return host != "nowhere.test"; }};
  }
};

PoolSpec srv_pool(const std::string& name = "default") {
  PoolSpec spec;
  spec.settings.name = name;
  spec.settings.srv_sources.push_back(kWeb);
  return spec;
}

std::vector<std::string> urls(const Balancer& balancer, const std::string& pool = "default") {
  std::vector<std::string> found;
  for (const auto& backend : balancer.current()->find(pool)->backends) {
    found.push_back(backend->url + " w" + std::to_string(backend->weight()));
  }
  return found;
}

}  // namespace

TEST_CASE("discovery fills an SRV pool and follows the records", "[srv][discovery]") {
  FakeDns dns;
  dns.records[kWeb.name] = {{0, 10, 8001, "web1.test"}, {0, 20, 8002, "web2.test"}};
  Balancer balancer({}, {srv_pool()}, {});
  int added_calls = 0;
  SrvDiscovery discovery(balancer, dns.dns(), [&] { ++added_calls; });
  CHECK(urls(balancer).empty());  // no backends until the first lookup
  discovery.refresh_all();
  CHECK(urls(balancer) == std::vector<std::string>{"http://web1.test:8001 w10", "http://web2.test:8002 w20"});
  auto report = balancer.current()->find("default")->shared->discovery.snapshot().at(kWeb.url());
  CHECK(report.ok);
  CHECK(report.ok_total == 1);

  const auto web1 = balancer.current()->find("default")->backends[0];
  dns.records[kWeb.name] = {{0, 10, 8001, "web1.test"}, {0, 30, 8002, "web2.test"}, {0, 1, 8003, "web3.test"}};
  discovery.refresh_all();
  CHECK(urls(balancer) ==
        std::vector<std::string>{"http://web1.test:8001 w10", "http://web2.test:8002 w30", "http://web3.test:8003 w1"});
  CHECK(balancer.current()->find("default")->backends[0] == web1);  // unchanged: the same Backend, its state kept

  dns.records[kWeb.name] = {{0, 30, 8002, "web2.test"}};
  discovery.refresh_all();
  CHECK(urls(balancer) == std::vector<std::string>{"http://web2.test:8002 w30"});
  CHECK(web1.use_count() == 1);  // only this test holds it: gone from the pool, in-flight holders would keep it
}

TEST_CASE("a failed lookup keeps the last answer and is counted", "[srv][discovery]") {
  FakeDns dns;
  dns.records[kWeb.name] = {{0, 1, 8001, "web1.test"}};
  Balancer balancer({}, {srv_pool()}, {});
  SrvDiscovery discovery(balancer, dns.dns(), nullptr);
  discovery.refresh_all();
  dns.records.clear();  // NXDOMAIN from now on
  discovery.refresh_all();
  discovery.refresh_all();
  CHECK(urls(balancer) == std::vector<std::string>{"http://web1.test:8001 w1"});
  auto report = balancer.current()->find("default")->shared->discovery.snapshot().at(kWeb.url());
  CHECK_FALSE(report.ok);
  CHECK(report.error == "no such name");
  CHECK(report.failed_total == 2);
  SECTION("an answer with nothing usable keeps the last one too") {
    dns.records[kWeb.name] = {{0, 1, 0, "web1.test"}, {0, 1, 8001, "nowhere.test"}};
    discovery.refresh_all();
    CHECK(urls(balancer) == std::vector<std::string>{"http://web1.test:8001 w1"});
  }
  SECTION("after recovery, changes are picked up again") {
    dns.records[kWeb.name] = {{0, 1, 8002, "web2.test"}};
    discovery.refresh_all();
    CHECK(urls(balancer) == std::vector<std::string>{"http://web2.test:8002 w1"});
  }
}

TEST_CASE("a reload keeps discovered backends of sources still configured", "[srv][discovery]") {
  FakeDns dns;
  dns.records[kWeb.name] = {{0, 1, 8001, "web1.test"}};
  PoolSpec api = srv_pool("api");
  api.backends.push_back(parse_backend_spec("http://127.0.0.1:9000"));
  Balancer balancer({}, {srv_pool(), api}, {});
  SrvDiscovery discovery(balancer, dns.dns(), nullptr);
  discovery.refresh_all();
  const auto discovered = balancer.current()->find("default")->backends[0];

  PoolSpec api_without_srv;
  api_without_srv.settings.name = "api";
  api_without_srv.backends.push_back(parse_backend_spec("http://127.0.0.1:9000"));
  balancer.reconfigure({}, {srv_pool(), api_without_srv}, {});
  CHECK(balancer.current()->find("default")->backends.at(0) == discovered);  // kept, state and all
  CHECK(urls(balancer, "api") == std::vector<std::string>{"http://127.0.0.1:9000 w1"});  // its source is gone

  SECTION("a URL the pool has from its configuration is not discovered again") {
    dns.records[kWeb.name] = {{0, 1, 9000, "127.0.0.1"}};
    PoolSpec both = srv_pool("api");
    both.backends.push_back(parse_backend_spec("http://127.0.0.1:9000"));
    balancer.reconfigure({}, {srv_pool(), both}, {});
    discovery.refresh_all();
    CHECK(urls(balancer, "api") == std::vector<std::string>{"http://127.0.0.1:9000 w1"});
    CHECK(balancer.current()->find("api")->backends[0]->spec.discovered_by.empty());
  }
}
