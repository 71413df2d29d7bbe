// --config-etcd's flags and a config given as text (parse_options' config_text).
#include <catch2/catch.hpp>

#include "lb/config/config_text.h"
#include "test/unit/config/options_test_support.h"

using namespace lb;
using namespace options_test;

namespace {

Options parse_text(std::vector<const char*> args, const std::string& text) {
  args.insert(args.begin(), "load_balancer");
  return parse_options(static_cast<int>(args.size()), args.data(), &text);
}

}  // namespace

TEST_CASE("config-etcd flags: defaults and refusals", "[options][etcd]") {
  Options o = parse({"--config-etcd", "http://127.0.0.1:2379"});
  CHECK(o.config_etcd == "http://127.0.0.1:2379");
  CHECK(o.config_etcd_key == "/cpp-lb/config");
  CHECK(o.pools.empty());  // the backends may all come from etcd
  CHECK(parse({"--config-etcd", "http://e:1", "--config-etcd-key", "/x"}).config_etcd_key == "/x");
  ConfigFile file(R"({"backends": ["http://a:1"]})");
  CHECK_THAT(error_of({"--config-etcd", "http://e:1", "--config", file.path.c_str()}), Catch::Contains("drop --config"));
  CHECK_THAT(error_of({"--config-etcd", "e:2379"}), Catch::Contains("http://HOST:PORT"));
  CHECK_THAT(error_of({"--config-etcd", "http://e:1", "--config-etcd-key", ""}), Catch::Contains("must not be empty"));
  CHECK_THAT(error_of({}), !Catch::Contains("accepted"));  // without etcd, no backends is still an error
}

TEST_CASE("a config from etcd: read as a file, replaces -b and --route, flags override the rest", "[options][etcd]") {
  const std::string text = R"({"backends": ["http://a:1", {"url": "http://b:2", "weight": 3, "drain": true}],
                               "algorithm": "least-connections", "health-interval": 0.5})";
  Options o = parse_text({"--config-etcd", "http://e:1", "-b", "http://flag:9", "http://flag:10", "--backend=http://f:3",
                          "--health-interval", "2"},
                         text);
  REQUIRE(o.pools.size() == 1);
  REQUIRE(o.pools[0].backends.size() == 2);
  CHECK(o.pools[0].backends[0].url() == "http://a:1");
  CHECK(o.pools[0].backends[1].weight == 3);
  CHECK(o.pools[0].backends[1].draining == std::optional<bool>(true));
  CHECK_FALSE(o.pools[0].backends[0].draining);
  CHECK(o.policy.algorithm == "least-connections");
  CHECK(o.health_interval == 2);

  CHECK_THROWS_WITH(parse_text({"--config-etcd", "http://e:1"}, R"({"bogus": 1})"),
                    Catch::Contains("the config in etcd") && Catch::Contains("bogus"));
  CHECK_THROWS_AS(parse_text({"--config-etcd", "http://e:1"}, "{not json"), OptionsError);
  CHECK_THROWS_AS(parse_text({"--config-etcd", "http://e:1"}, R"({"algorithm": "random"})"), OptionsError);
}

TEST_CASE("without_backends_and_routes keeps every other flag", "[options][etcd]") {
  const char* argv[] = {"load_balancer", "-b", "http://a:1", "http://a:2", "--port", "0", "-bhttp://c:1",
                        "--route", "/api=api", "--route=/x=y", "--admin-port", "0"};
  CHECK(without_backends_and_routes(12, argv) ==
        std::vector<std::string>{"load_balancer", "--port", "0", "--admin-port", "0"});
}

// A flag may need a setting that only the key has (--rate-limit-redis the
// --rate-limit every instance shares): checked once the key is read.
TEST_CASE("flags that need a setting from etcd wait for it", "[options][etcd]") {
  const std::vector<const char*> flags = {"--config-etcd", "http://e:1", "--rate-limit-redis", "redis://127.0.0.1:6379",
                                          "--tls-client-verify", "optional"};
  CHECK(parse(flags).rate_limit_redis == "redis://127.0.0.1:6379");
  const Options combined = parse_text(flags, R"({"backends": ["http://a:1"], "rate-limit": 100,
      "tls-cert": ["test/certs/localhost.crt"], "tls-key": ["test/certs/localhost.key"], "tls-client-ca": "ca.crt"})");
  CHECK(combined.rate_limit == 100);
  CHECK_THROWS_WITH(parse_text(flags, R"({"backends": ["http://a:1"], "tls-client-ca": "ca.crt"})"),
                    Catch::Contains("--tls-client-ca: needs --tls-cert"));
  CHECK_THROWS_WITH(parse_text({"--config-etcd", "http://e:1", "--rate-limit-redis", "redis://127.0.0.1:6379"},
                               R"({"backends": ["http://a:1"]})"),
                    Catch::Contains("--rate-limit-redis: needs --rate-limit"));
  CHECK_THROWS_WITH(parse({"--rate-limit-redis", "redis://127.0.0.1:6379", "-b", "http://a:1"}),
                    Catch::Contains("--rate-limit-redis: needs --rate-limit"));  // without etcd, at once
}
