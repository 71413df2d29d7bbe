// load_balancer flag parsing: defaults, every kind of value, one-line errors.
#include <catch2/catch.hpp>

#include "test/unit/config/options_test_support.h"

using namespace lb;
using namespace options_test;

// Defaults match README "All flags".
TEST_CASE("defaults", "[options]") {
  Options o = parse({"--backend", "http://127.0.0.1:8001"});
  CHECK(o.port == 8000);
  CHECK(o.bind == "0.0.0.0");
  CHECK(o.policy.algorithm == "round-robin");
  CHECK(o.health_path == "/health");
  CHECK(o.health_interval == 5);
  CHECK(o.health_timeout == 2);
  CHECK(o.proxy.retries == 1);
  REQUIRE(o.pools.at(0).backends.size() == 1);
  CHECK(o.pools.at(0).backends[0].port == 8001);
}

// Every flag is read, fractions of seconds included.
TEST_CASE("flags are parsed", "[options]") {
  Options o = parse({"-b", "http://a:1,weight=3", "--backend", "http://b:2", "-p", "9000", "--bind", "127.0.0.1",
                     "--algorithm", "least-connections", "--health-path", "/ready", "--health-interval", "0.2",
                     "--health-timeout", "0.5", "--health-rise", "2", "--health-fall", "3", "--connect-timeout",
                     "1.5", "--backend-timeout", "0.25", "--max-body-size", "1048576", "--max-header-size",
                     "4096", "--retries", "2", "--max-connections", "50"});
  CHECK(o.pools.at(0).backends.size() == 2);
  CHECK(o.pools.at(0).backends[0].weight == 3);
  CHECK(o.port == 9000);
  CHECK(o.bind == "127.0.0.1");
  CHECK(o.policy.algorithm == "least-connections");
  CHECK(o.health_path == "/ready");
  CHECK(o.health_interval == Approx(0.2));
  CHECK(o.backend.rise == 2);
  CHECK(o.backend.fall == 3);
  CHECK(o.proxy.connect_timeout == Millis(1500));
  CHECK(o.proxy.backend_timeout == Millis(250));
  CHECK(o.proxy.max_body_bytes == 1048576);
  CHECK(o.proxy.max_header_bytes == 4096);
  CHECK(o.proxy.retries == 2);
  CHECK(o.max_connections == 50);
}

// Bad input names the flag and the problem in one line.
TEST_CASE("bad flags give one-line errors", "[options]") {
  CHECK_THAT(error_of({}), Catch::Contains("--backend"));
  CHECK_THAT(error_of({"-b", "127.0.0.1:8001"}), Catch::Contains("--backend"));
  CHECK_THAT(error_of({"-b", "http://a:1", "--port", "70000"}), Catch::Contains("--port"));
  CHECK_THAT(error_of({"-b", "http://a:1", "--algorithm", "random"}), Catch::Contains("--algorithm"));
  CHECK_THAT(error_of({"-b", "http://a:1", "--health-interval", "0"}), Catch::Contains("--health-interval"));
  CHECK_THAT(error_of({"-b", "http://a:1", "--health-path", "health"}), Catch::Contains("--health-path"));
  CHECK_THAT(error_of({"-b", "http://a:1", "--bogus"}), Catch::Contains("--bogus"));
  for (auto& message : {error_of({"-b", "http://a:1", "--port", "x"}), error_of({"-b", "ftp://a"})}) {
    CHECK(message.find('\n') == std::string::npos);
  }
}


// A config file sets flags by their long names; backends may be objects with weights.
TEST_CASE("config file values", "[options][config]") {
  ConfigFile file(R"({
    // comments are allowed
    "backends": [{"url": "http://a:1", "weight": 3}, "http://b:2"],
    "algorithm": "least-connections",
    "health-interval": 0.25,
    "trusted-proxy": ["10.0.0.0/8", "::1"],
    "trace-header": true,
    "max-body-size": 1024
  })");
  Options o = parse({"--config", file.path.c_str()});
  REQUIRE(o.pools.at(0).backends.size() == 2);
  CHECK(o.pools.at(0).backends[0].weight == 3);
  CHECK(o.pools.at(0).backends[1].url() == "http://b:2");
  CHECK(o.policy.algorithm == "least-connections");
  CHECK(o.health_interval == Approx(0.25));
  CHECK(o.trusted_proxies == std::vector<std::string>{"10.0.0.0/8", "::1"});
  CHECK(o.proxy.trace_header);
  CHECK(o.proxy.max_body_bytes == 1024);
}

// Flags on the command line win over the file.
TEST_CASE("flags override the config file", "[options][config]") {
  ConfigFile file(R"({"backends": ["http://a:1"], "algorithm": "least-connections", "port": 9000})");
  Options o = parse({"--config", file.path.c_str(), "--algorithm", "round-robin", "-b", "http://c:3"});
  CHECK(o.policy.algorithm == "round-robin");
  CHECK(o.port == 9000);
  REQUIRE(o.pools.at(0).backends.size() == 1);
  CHECK(o.pools.at(0).backends[0].host == "c");
}

// Unknown keys and wrong types are errors that name the key path.
TEST_CASE("config file errors name the key", "[options][config]") {
  auto error_for = [](const std::string& json) {
    ConfigFile file(json);
    return error_of({"--config", file.path.c_str()});
  };
  CHECK_THAT(error_for(R"({"backends": ["http://a:1"], "healthinterval": 1})"),
             Catch::Contains("unknown key 'healthinterval'"));
  CHECK_THAT(error_for(R"({"backends": [{"url": "http://a:1", "weight": "x"}]})"),
             Catch::Contains("backends[0].weight"));
  CHECK_THAT(error_for(R"({"backends": [{"url": "http://a:1", "wieght": 2}]})"),
             Catch::Contains("backends[0].wieght"));
  CHECK_THAT(error_for(R"({"backends": ["http://a:1"], "port": {"n": 1}})"), Catch::Contains("'port'"));
  CHECK_THAT(error_for(R"({"backends": ["http://a:1"], "port": "x"})"), Catch::Contains("--port"));
  CHECK_THAT(error_for(R"({"backends": ["ftp://a:1"]})"), Catch::Contains("--backend"));
  CHECK_THAT(error_for("{not json"), Catch::Contains("not valid JSON"));
  CHECK_THAT(error_of({"--config", "/nonexistent/lb.json"}), Catch::Contains("--config"));
}
