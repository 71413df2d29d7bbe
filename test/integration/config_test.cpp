// --config files, --check, and reload on SIGHUP, through the real binary.
#include <catch2/catch.hpp>
#include <signal.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "test/support/backend_process.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A config file in the temp dir, removed when the test ends.
struct TempConfig {
  std::string path;
  explicit TempConfig(const std::string& text) : path("/tmp/lb_config_test_" + std::to_string(::getpid()) + ".json") {
    write(text);
  }
  ~TempConfig() { std::remove(path.c_str()); }
  void write(const std::string& text) const { std::ofstream(path) << text; }
};

std::map<std::string, int> spread(int port, int requests) {
  std::map<std::string, int> counts;
  ScopedFd fd(connect_to(port));
  for (int i = 0; i < requests; ++i) {
    send_all(fd.get(), build_request("GET", "/"));
    ++counts[json::parse(read_response(fd.get()).body)["server_id"].get<std::string>()];
  }
  return counts;
}

}  // namespace

// Backends and per-backend weights come from the file; a flag overrides the file.
TEST_CASE("config file with per-backend weights, flags override", "[integration][config]") {
  BackendProcess a, b;
  TempConfig config(R"({"backends": [{"url": ")" + a.url() + R"(", "weight": 3}, ")" + b.url() +
                    R"("], "algorithm": "least-connections", "health-interval": 0.5})");
  LoadBalancerProcess lb({}, {"--config", config.path, "--algorithm", "round-robin"});
  auto counts = spread(lb.port(), 40);
  CHECK(counts[a.id()] == 30);
  CHECK(counts[b.id()] == 10);
  CHECK(lb.process().wait_for_line("round-robin", 1s));
}

// --check validates like `nginx -t`: exit 0 with a summary, or 2 naming the problem.
TEST_CASE("config check with --check", "[integration][config]") {
  TempConfig good(R"({"backends": ["http://127.0.0.1:9"], "rate-limit": 5})");
  auto [ok_status, ok_output] = run_load_balancer_to_exit({"--config", good.path, "--check"});
  CHECK(ok_status == 0);
  CHECK_THAT(ok_output, Catch::Contains("configuration OK"));
  CHECK_THAT(ok_output, Catch::Contains("backend    http://127.0.0.1:9 weight=1"));

  TempConfig unknown(R"({"backends": ["http://127.0.0.1:9"], "health-intervall": 1})");
  auto [bad_status, bad_output] = run_load_balancer_to_exit({"--config", unknown.path, "--check"});
  CHECK(bad_status == 2);
  CHECK_THAT(bad_output, Catch::Contains("unknown key 'health-intervall'"));

  TempConfig wrong_type(R"({"backends": [{"url": "http://127.0.0.1:9", "weight": "heavy"}]})");
  auto [type_status, type_output] = run_load_balancer_to_exit({"--config", wrong_type.path, "--check"});
  CHECK(type_status == 2);
  CHECK_THAT(type_output, Catch::Contains("backends[0].weight"));

  auto [missing_status, missing_output] = run_load_balancer_to_exit({"--config", "/nonexistent/lb.json"});
  CHECK(missing_status == 2);
  CHECK_THAT(missing_output, Catch::Contains("--config"));
}

// SIGHUP applies a new backend list without dropping a connection or an
// in-flight request; a broken file is rejected and the old setup keeps running.
TEST_CASE("reload on SIGHUP", "[integration][config]") {
  BackendProcess a, b;
  TempConfig config(R"({"backends": [")" + a.url() + R"("]})");
  LoadBalancerProcess lb({}, {"--config", config.path});
  ScopedFd kept(connect_to(lb.port()));  // a keep-alive client across the reload
  send_all(kept.get(), build_request("GET", "/"));
  REQUIRE(read_response(kept.get()).status == 200);
  ScopedFd in_flight(connect_to(lb.port()));
  send_all(in_flight.get(), build_request("GET", "/slow?ms=800"));
  REQUIRE(a.process().wait_for_line("/slow?ms=800: waiting", 10s));  // at the backend: in flight

  config.write(R"({"backends": [")" + a.url() + R"(", ")" + b.url() + R"("]})");
  lb.process().signal(SIGHUP);
  REQUIRE(lb.process().wait_for_line("[Reload] applied: 2 backends", 5s));
  CHECK(read_response(in_flight.get()).status == 200);
  auto counts = spread(lb.port(), 10);
  CHECK(counts[a.id()] == 5);
  CHECK(counts[b.id()] == 5);
  send_all(kept.get(), build_request("GET", "/"));
  CHECK(read_response(kept.get()).status == 200);

  config.write(R"({"backends": ["not a url"]})");
  lb.process().signal(SIGHUP);
  CHECK(lb.process().wait_for_line("[Reload] rejected", 5s));
  auto after = spread(lb.port(), 4);
  CHECK(after[a.id()] == 2);
  CHECK(after[b.id()] == 2);
}
