// Backends from DNS SRV records (README "Backends from DNS SRV"), against a
// real dnsmasq on a loopback port: records become backends with their
// weights, changes are followed under load without a failed request, a
// resolver that goes away keeps the last answer, and bad values exit 2.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "test/support/backend_process.h"
#include "test/support/dnsmasq_process.h"
#include "test/support/eventually.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kSource = "srv+http://_http._tcp.web.test";

std::string srv(const std::string& target, int port, int weight, int priority = 0) {
  return "--srv-host=_http._tcp.web.test," + target + "," + std::to_string(port) + "," + std::to_string(priority) +
         "," + std::to_string(weight);
}

// Every target name the tests use, on 127.0.0.1.
std::vector<std::string> with_hosts(std::vector<std::string> records) {
  for (const char* host : {"web1.test", "web2.test", "web3.test"}) {
    records.push_back(std::string("--host-record=") + host + ",127.0.0.1");
  }
  return records;
}

LoadBalancerProcess balancer_for(const DnsmasqProcess& dns) {
  return LoadBalancerProcess({kSource}, {"--resolver", dns.resolver(), "--admin-port", "0", "--health-interval", "0.2"});
}

json status_of(LoadBalancerProcess& lb) {
  return json::parse(http_request(lb.admin_port(), build_request("GET", "/status")).body);
}

std::string metrics_of(LoadBalancerProcess& lb) {
  return http_request(lb.admin_port(), build_request("GET", "/metrics")).body;
}

// Requests from a client thread until stopped: answers counted by server id, anything else a failure.
class SteadyClient {
 public:
  explicit SteadyClient(int port) : thread_([this, port] { run(port); }) {}
  ~SteadyClient() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int served_by(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    return counts_[id];
  }
  int total() {
    std::lock_guard<std::mutex> lock(mutex_);
    int sum = 0;
    for (const auto& entry : counts_) sum += entry.second;
    return sum;
  }
  int failures() const { return failures_.load(); }

 private:
  void run(int port) {
    while (!stopping_) {
      RawResponse response = http_request(port, build_request("GET", "/"));
      if (response.status != 200) {
        ++failures_;
        continue;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      ++counts_[json::parse(response.body)["server_id"].get<std::string>()];
    }
  }

  std::atomic<bool> stopping_{false};
  std::atomic<int> failures_{0};
  std::mutex mutex_;
  std::map<std::string, int> counts_;  // guards: mutex_
  std::thread thread_;
};

}  // namespace

TEST_CASE("SRV records become backends with their weights, lowest priority first", "[integration][srv]") {
  BackendProcess a({"--id", "a"}), b({"--id", "b"}), backup({"--id", "backup"});
  DnsmasqProcess dns(with_hosts({srv("web1.test", a.port(), 1), srv("web2.test", b.port(), 3),
                                 srv("web3.test", backup.port(), 2000, /*priority=*/10)}));
  LoadBalancerProcess lb = balancer_for(dns);
  std::map<std::string, int> served;
  for (int i = 0; i < 8; ++i) {  // discovered and checked before the listener opened
    RawResponse response = http_request(lb.port(), build_request("GET", "/"));
    REQUIRE(response.status == 200);
    ++served[json::parse(response.body)["server_id"].get<std::string>()];
  }
  CHECK(served["a"] == 2);
  CHECK(served["b"] == 6);
  CHECK(served["backup"] == 0);  // priority 10: used only when those of priority 0 are gone

  json status = status_of(lb);
  REQUIRE(status["backends"].size() == 2);
  CHECK(status["backends"][0]["url"] == "http://web1.test:" + std::to_string(a.port()));
  CHECK(status["backends"][0]["weight"] == 1);
  CHECK(status["backends"][1]["weight"] == 3);
  CHECK(status["backends"][1]["discovered_by"] == kSource);
  json source = status["pools"][0]["srv_sources"][0];
  CHECK(source["url"] == kSource);
  CHECK(source["backends"] == 2);
  CHECK(source["last_lookup"]["ok"] == true);
  CHECK_THAT(metrics_of(lb), Catch::Contains("lb_discovery_backends{pool=\"default\",name=\"_http._tcp.web.test\"} 2"));

  SECTION("when the preferred records go, the next priority takes over, its weight clamped to 1000") {
    dns.restart(with_hosts({srv("web3.test", backup.port(), 2000, 10)}));
    REQUIRE(eventually([&] { return status_of(lb)["backends"].size() == 1; }, 5s));
    REQUIRE(eventually([&] { return status_of(lb)["backends"][0]["healthy"] == true; }, 5s));
    CHECK(status_of(lb)["backends"][0]["weight"] == 1000);
    CHECK(json::parse(http_request(lb.port(), build_request("GET", "/")).body)["server_id"] == "backup");
  }
}

TEST_CASE("SRV changes under load: the new backend gets traffic, the removed one drains, no request fails",
          "[integration][srv]") {
  BackendProcess a({"--id", "a"}), b({"--id", "b"}), c({"--id", "c"});
  DnsmasqProcess dns(with_hosts({srv("web1.test", a.port(), 1), srv("web2.test", b.port(), 1)}));
  LoadBalancerProcess lb = balancer_for(dns);
  SteadyClient client(lb.port());
  REQUIRE(eventually([&] { return client.served_by("a") > 0 && client.served_by("b") > 0; }, 5s));

  dns.restart(with_hosts({srv("web2.test", b.port(), 1), srv("web3.test", c.port(), 1)}));
  REQUIRE(eventually([&] { return client.served_by("c") > 0; }, 5s));
  REQUIRE(lb.process().wait_for_line("removed http://web1.test:" + std::to_string(a.port()), 5s));
  const int a_before = client.served_by("a");
  const int total_before = client.total();
  REQUIRE(eventually([&] { return client.total() >= total_before + 30; }, 10s));
  CHECK(client.served_by("a") <= a_before + 1);  // at most the one in flight when it was removed
  client.stop();
  CHECK(client.failures() == 0);
  CHECK(lb.process().count_lines("added http://web3.test:" + std::to_string(c.port())) == 1);
}

TEST_CASE("a resolver that goes away: backends are kept, logged once and counted, and changes resume when it returns",
          "[integration][srv]") {
  BackendProcess a({"--id", "a"}), c({"--id", "c"});
  DnsmasqProcess dns(with_hosts({srv("web1.test", a.port(), 1)}));
  LoadBalancerProcess lb = balancer_for(dns);
  dns.stop();
  REQUIRE(lb.process().wait_for_line("[Discovery] _http._tcp.web.test: lookup failed (", 5s));
  CHECK(lb.process().count_lines("keeping 1 backends") == 1);
  // A few rounds later: still served (the host name keeps its last addresses), still logged once.
  REQUIRE(eventually([&] {
    return metrics_of(lb).find("name=\"_http._tcp.web.test\",result=\"failed\"} 3") != std::string::npos;
  }, 5s));
  for (int i = 0; i < 5; ++i) {
    RawResponse response = http_request(lb.port(), build_request("GET", "/"));
    REQUIRE(response.status == 200);
    CHECK(json::parse(response.body)["server_id"] == "a");
  }
  CHECK(lb.process().count_lines("lookup failed") == 1);
  CHECK(status_of(lb)["pools"][0]["srv_sources"][0]["last_lookup"]["ok"] == false);

  dns.restart(with_hosts({srv("web1.test", a.port(), 1), srv("web3.test", c.port(), 1)}));
  REQUIRE(lb.process().wait_for_line("lookup answers again", 5s));
  REQUIRE(eventually([&] {
    return json::parse(http_request(lb.port(), build_request("GET", "/")).body)["server_id"] == "c";
  }, 5s));
}

TEST_CASE("an SRV name without records yet: 503 until discovery finds some", "[integration][srv]") {
  BackendProcess a({"--id", "a"});
  DnsmasqProcess dns(with_hosts({}));
  LoadBalancerProcess lb = balancer_for(dns);
  CHECK(http_request(lb.port(), build_request("GET", "/")).status == 503);
  dns.restart(with_hosts({srv("web1.test", a.port(), 1)}));
  REQUIRE(eventually([&] { return http_request(lb.port(), build_request("GET", "/")).status == 200; }, 5s));
}

TEST_CASE("malformed srv URLs and bad resolver values exit 2 with one line, and --check lists SRV sources",
          "[integration][srv]") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"-b", "srv+ftp://_ftp._tcp.web.test"}, {"-b", "srv+http://"},
        {"-b", "srv+http://_http._tcp.web.test:8080"}, {"-b", kSource, "--resolver", "dns.example"},
        {"-b", kSource, "--resolver", "127.0.0.1:99999"}}) {
    auto [status, output] = run_load_balancer_to_exit(args);
    CHECK(status == 2);
    CHECK(std::count(output.begin(), output.end(), '\n') == 1);
  }
  auto [status, output] = run_load_balancer_to_exit({"--check", "-b", kSource, "--resolver", "127.0.0.1:5353"});
  CHECK(status == 0);
  CHECK_THAT(output, Catch::Contains(kSource + " (DNS SRV)"));
}
