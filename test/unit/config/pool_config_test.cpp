// Pools and routes from flags and the config file (lb/config/pool_config.h).
#include <catch2/catch.hpp>

#include "test/unit/config/options_test_support.h"

using namespace lb;
using namespace options_test;

TEST_CASE("backends given as POOL=URL make pools in order of first mention", "[options][pools]") {
  Options o = parse({"-b", "api=http://a:1,weight=2", "-b", "http://w:1", "-b", "api=http://b:2", "--route",
                     "api.example.com=api", "--route", "/=default", "--algorithm", "least-connections"});
  REQUIRE(o.pools.size() == 2);
  CHECK(o.pools[0].settings.name == "api");
  CHECK(o.pools[0].backends.size() == 2);
  CHECK(o.pools[0].backends[0].weight == 2);
  CHECK(o.pools[0].settings.policy.algorithm == "least-connections");  // top-level settings by default
  CHECK(o.pools[1].settings.name == "default");
  REQUIRE(o.routes.size() == 2);
  CHECK(o.routes[0].host == "api.example.com");
  CHECK(o.routes[0].pool == "api");
  CHECK(o.routes[1].path == "/");
}

TEST_CASE("pools and routes from the config file, per-pool settings win", "[options][pools][config]") {
  ConfigFile file(R"({
    "health-path": "/health",
    "pools": {
      "web": {"backends": ["http://w:1"]},
      "api": {"backends": [{"url": "http://a:1", "weight": 3}], "algorithm": "least-connections",
              "sticky-cookie": "api_session", "health-path": "/ready", "health-interval": 0.5}
    },
    "routes": [
      {"host": "API.example.com", "path": "/v1", "pool": "api", "strip-prefix": true,
       "request-headers": {"set": {"X-Env": "prod"}, "add": {"X-Tag": "a"}, "remove": ["X-Debug"]},
       "response-headers": {"remove": ["Server"]}},
      {"pool": "web"}
    ]
  })");
  Options o = parse({"--config", file.path.c_str()});
  REQUIRE(o.pools.size() == 2);
  CHECK(o.pools[0].settings.name == "web");  // the file's order, not alphabetical
  CHECK(o.pools[0].settings.health_path == "/health");
  const PoolSettings& api = o.pools[1].settings;
  CHECK(api.policy.algorithm == "least-connections");
  CHECK(api.policy.sticky_cookie == "api_session");
  CHECK(api.health_path == "/ready");
  CHECK(api.health_interval == std::chrono::milliseconds(500));
  CHECK(o.pools[1].backends[0].weight == 3);
  REQUIRE(o.routes.size() == 2);
  CHECK(o.routes[0].host == "api.example.com");
  CHECK(o.routes[0].strip_prefix);
  CHECK(o.routes[0].request_headers.set[0].first == "X-Env");
  CHECK(o.routes[0].request_headers.remove == std::vector<std::string>{"X-Debug"});
  CHECK(o.routes[0].response_headers.remove == std::vector<std::string>{"Server"});
  CHECK(o.routes[1].match_text() == "*");  // matches everything
}

TEST_CASE("routes from the command line replace the file's routes", "[options][pools][config]") {
  ConfigFile file(R"({"backends": ["api=http://a:1", "http://w:1"], "routes": [{"path": "/api", "pool": "api"}]})");
  Options o = parse({"--config", file.path.c_str(), "--route", "/=default"});
  REQUIRE(o.routes.size() == 1);
  CHECK(o.routes[0].pool == "default");
  CHECK(o.warnings == std::vector<std::string>{"pool 'api' is named by no route"});
}

TEST_CASE("pool and route errors name the route", "[options][pools]") {
  CHECK_THAT(error_of({"-b", "http://a:1", "--route", "/api=apii"}), Catch::Contains("route 1 (/api): unknown pool 'apii'"));
  CHECK_THAT(error_of({"-b", "b@d=http://a:1"}), Catch::Contains("not a pool name"));
  CHECK_THAT(error_of({"-b", "api=http://a:1"}), Catch::Contains("no pool 'default'"));
  CHECK_THAT(error_of({"-b", "http://a:1", "--route", "/api"}), Catch::Contains("MATCH=POOL"));
  CHECK_THAT(error_of({"-b", "http://a:1", "--route", "a b=default"}), Catch::Contains("not a host name"));
  CHECK_THAT(error_of({}), Catch::Contains("--backend"));
  CHECK_THAT(error_of({"-b", "http://a:1", "--route", "/=default", "--route", "/api=default"}),
             Catch::Contains("route 2 (/api) can never match: route 1 (/) matches every request it would"));
  // With --check the shadowed route is a warning, not an error.
  Options checked = parse({"-b", "http://a:1", "--route", "/=default", "--route", "/api=default", "--check"});
  CHECK(checked.warnings == std::vector<std::string>{"route 2 (/api) can never match: route 1 (/) matches every request it would"});

  auto error_for = [](const std::string& json) {
    ConfigFile file(json);
    return error_of({"--config", file.path.c_str()});
  };
  CHECK_THAT(error_for(R"({"backends": ["http://a:1"], "pools": {"api": {}}, "routes": [{"pool": "api"}]})"),
             Catch::Contains("pool 'api' has no backends"));
  CHECK_THAT(error_for(R"({"backends": ["http://a:1"], "pools": {"api": {"backends": ["http://b:1"], "algoritm": "x"}}})"),
             Catch::Contains("pools.api.algoritm"));
  CHECK_THAT(error_for(R"({"backends": ["http://a:1"], "routes": [{"path": "/x", "pool": "default",
                           "request-headers": {"set": {"Content-Length": "1"}}}]})"),
             Catch::Contains("route 1 (/x) request-headers: 'Content-Length' is a hop-by-hop or framing header"));
  CHECK_THAT(error_for(R"({"backends": ["http://a:1"], "routes": [{"path": "/x", "pool": "default",
                           "response-headers": {"remove": ["Connection"]}}]})"),
             Catch::Contains("route 1 (/x) response-headers: 'Connection'"));
  CHECK_THAT(error_for(R"({"backends": ["http://a:1"], "routes": [{"path": "x", "pool": "default"}]})"),
             Catch::Contains("routes[0]"));
  CHECK_THAT(error_for(R"({"backends": ["http://a:1"], "routes": [{"path": "/x"}]})"), Catch::Contains("missing \"pool\""));
  CHECK_THAT(error_of({"-b", "http://a:1", "--request-id-header", "Content-Length"}),
             Catch::Contains("--request-id-header"));
}

// --compress and --compress-min-size from flags and file; a route's
// "compress" is true, false or unset (then --compress decides); anything
// else is a config error naming the key.
TEST_CASE("compression settings, global and per route", "[options][config][compression]") {
  Options plain = parse({"-b", "http://a:1"});
  CHECK_FALSE(plain.proxy.compress);
  CHECK(plain.proxy.compress_min_size == 1024);
  Options flags = parse({"-b", "http://a:1", "--compress", "--compress-min-size", "0"});
  CHECK(flags.proxy.compress);
  CHECK(flags.proxy.compress_min_size == 0);

  ConfigFile file(R"({"backends": ["http://a:1"], "compress": true, "compress-min-size": 2048,
    "routes": [{"path": "/a", "pool": "default", "compress": false}, {"path": "/b", "pool": "default", "compress": true},
               {"pool": "default"}]})");
  const Options o = parse({"--config", file.path.c_str()});
  CHECK(o.proxy.compress);
  CHECK(o.proxy.compress_min_size == 2048);
  REQUIRE(o.routes.size() == 3);
  CHECK(o.routes[0].compress == std::optional<bool>(false));
  CHECK(o.routes[1].compress == std::optional<bool>(true));
  CHECK_FALSE(o.routes[2].compress.has_value());

  {
    ConfigFile bad(R"({"backends": ["http://a:1"], "routes": [{"pool": "default", "compress": "gzip"}]})");  // same path as `file`
    CHECK(error_of({"--config", bad.path.c_str()}) == "config key 'routes[0].compress': expected true or false");
  }
  CHECK(error_of({"-b", "http://a:1", "--compress-min-size", "-1"}) ==
        "--compress-min-size: expected a number of bytes, got '-1'");
}

TEST_CASE("srv+http:// backends are SRV sources of their pool", "[options][pools][srv]") {
  ConfigFile file(R"({"pools": {"api": {"backends": ["srv+https://_https._tcp.api.test"]}}})");
  Options o = parse({"-b", "srv+http://_http._tcp.web.test", "-b", "srv+http://_http._tcp.web.test", "-b",
                     "http://127.0.0.1:8001", "--config", file.path.c_str(), "--resolver", "127.0.0.1:5353",
                     "--resolver", "::1", "--route", "api.test=api", "--route", "/=default"});
  REQUIRE(o.pools.size() == 2);
  CHECK(o.pools[0].backends.size() == 1);
  REQUIRE(o.pools[0].settings.srv_sources.size() == 1);  // given twice, counted once
  CHECK(o.pools[0].settings.srv_sources[0].url() == "srv+http://_http._tcp.web.test");
  CHECK(o.pools[1].backends.empty());  // a pool with only an SRV source is fine: discovery may lag
  CHECK(o.pools[1].settings.srv_sources[0].scheme == "https");
  REQUIRE(o.resolvers.size() == 2);
  CHECK(o.resolvers[1].text() == "[::1]:53");
  CHECK(parse({"-b", "api=srv+http://_http._tcp.api.test", "--route", "/=api"}).pools[0].settings.name == "api");
}

TEST_CASE("malformed srv URLs and --resolver values are one-line errors", "[options][pools][srv]") {
  CHECK_THAT(error_of({"-b", "srv+ftp://_ftp._tcp.x"}), Catch::Contains("--backend: 'srv+ftp://_ftp._tcp.x' has unsupported scheme"));
  CHECK_THAT(error_of({"-b", "srv+http://"}), Catch::Contains("has no SRV name"));
  CHECK_THAT(error_of({"-b", "srv+http://_http._tcp.x:80"}), Catch::Contains("no port after an SRV name"));
  CHECK_THAT(error_of({"-b", "srv+http://_http._tcp.x", "--resolver", "dns.example"}),
             Catch::Contains("--resolver: 'dns.example': expected an IP address"));
  CHECK_THAT(error_of({"-b", "srv+http://_http._tcp.x", "--resolver", "127.0.0.1:0"}), Catch::Contains("port must be"));
}
