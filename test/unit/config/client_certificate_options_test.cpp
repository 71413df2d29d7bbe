// Client certificate settings from flags and the config file: --tls-client-ca
// and --tls-client-verify, --backend-ca/-cert/-key at the top and per pool, the
// one-line errors, and load_backend_tls() turning each pool's files into its
// context (lb/config/live_config.h).
#include <catch2/catch.hpp>

#include "lb/config/live_config.h"
#include "test/support/test_certificates.h"
#include "test/unit/config/options_test_support.h"

using namespace lb;
using namespace options_test;

namespace {

std::string cert(const char* name) { return test_support::test_certificates().path(name); }

}  // namespace

// The flags land where the TLS contexts are built from; a pool's own files win over the top-level ones.
TEST_CASE("client certificate flags and per-pool backend TLS", "[options][client-cert]") {
  const std::string ca = cert("ca.crt"), client = cert("client.crt"), key = cert("client.key");
  Options plain = parse({"-b", "https://a:1"});
  CHECK(plain.pools[0].settings.backend_tls == TlsClientFiles{});
  CHECK(plain.tls_client_verify == "required");

  Options o = parse({"-b", "https://a:1", "--tls-cert", cert("server.crt").c_str(), "--tls-key",
                     cert("server.key").c_str(), "--tls-client-ca", ca.c_str(), "--tls-client-verify", "optional",
                     "--backend-ca", ca.c_str(), "--backend-cert", client.c_str(), "--backend-key", key.c_str()});
  CHECK(o.tls_client_ca == ca);
  CHECK(o.tls_client_verify == "optional");
  CHECK(o.pools[0].settings.backend_tls == TlsClientFiles{true, ca, {client, key}});

  ConfigFile file(R"({"backends": ["https://a:1"], "backend-ca": ")" + ca + R"(",
    "backend-cert": ")" + client + R"(", "backend-key": ")" + key + R"(",
    "pools": {"other": {"backends": ["https://b:1"], "backend-cert": ")" + cert("client2.crt") +
                  R"(", "backend-key": ")" + cert("client2.key") + R"("},
              "plain": {"backends": ["https://c:1"], "backend-ca": "", "backend-cert": "", "backend-key": ""}},
    "routes": [{"path": "/o", "pool": "other"}, {"path": "/p", "pool": "plain"}, {"pool": "default"}]})");
  Options pooled = parse({"--config", file.path.c_str(), "--backend-insecure"});
  REQUIRE(pooled.pools.size() == 3);
  CHECK(pooled.pools[0].settings.backend_tls == TlsClientFiles{false, ca, {client, key}});
  CHECK(pooled.pools[1].settings.backend_tls == TlsClientFiles{false, ca, {cert("client2.crt"), cert("client2.key")}});
  CHECK(pooled.pools[2].settings.backend_tls == TlsClientFiles{false, "", {}});
}

// Half a pair, a client CA without TLS, a verify mode without a CA: one line naming the flag or key.
TEST_CASE("client certificate settings that cannot work", "[options][client-cert]") {
  const std::string client = cert("client.crt"), key = cert("client.key");
  CHECK_THAT(error_of({"-b", "https://a:1", "--backend-cert", client.c_str()}),
             Catch::Contains("--backend-cert/--backend-key: give both"));
  CHECK_THAT(error_of({"-b", "https://a:1", "--backend-key", key.c_str()}), Catch::Contains("give both"));
  CHECK_THAT(error_of({"-b", "https://a:1", "--backend-cert", "/nonexistent.crt", "--backend-key", key.c_str()}),
             Catch::Contains("--backend-cert"));
  CHECK_THAT(error_of({"-b", "http://a:1", "--tls-client-ca", cert("ca.crt").c_str()}),
             Catch::Contains("--tls-client-ca: needs --tls-cert"));
  CHECK_THAT(error_of({"-b", "http://a:1", "--tls-cert", cert("server.crt").c_str(), "--tls-key",
                       cert("server.key").c_str(), "--tls-client-verify", "optional"}),
             Catch::Contains("--tls-client-verify: needs --tls-client-ca"));
  CHECK_THAT(error_of({"-b", "http://a:1", "--tls-cert", cert("server.crt").c_str(), "--tls-key",
                       cert("server.key").c_str(), "--tls-client-ca", cert("ca.crt").c_str(), "--tls-client-verify",
                       "maybe"}),
             Catch::Contains("--tls-client-verify"));

  auto error_for = [](const std::string& json) {
    ConfigFile file(json);
    return error_of({"--config", file.path.c_str()});
  };
  // Even with a top-level pair: half a pool's pair would mix its certificate with the other key.
  CHECK_THAT(error_for(R"({"backends": ["https://a:1"], "backend-cert": ")" + client + R"(", "backend-key": ")" +
                       key + R"(", "pools": {"default": {"backend-cert": ")" + cert("client2.crt") + R"("}}})"),
             Catch::Contains("config key 'pools.default': backend-cert and backend-key go together"));
  CHECK_THAT(error_for(R"({"pools": {"default": {"backends": ["https://a:1"], "backend-key": ")" + key + R"("}}})"),
             Catch::Contains("backend-cert and backend-key go together"));
  CHECK_THAT(error_for(R"({"pools": {"default": {"backends": ["https://a:1"], "backend-ca": 3}}})"),
             Catch::Contains("config key 'pools.default.backend-ca': expected a string"));
  CHECK_THAT(error_for(R"({"pools": {"default": {"backends": ["https://a:1"], "backend-crt": "x"}}})"),
             Catch::Contains("pools.default.backend-crt"));
}

// Pools naming the same files share one context; a file that cannot be used names its pool and itself.
TEST_CASE("load_backend_tls loads each pool's files once", "[options][client-cert]") {
  PoolSpec first, second, third;
  first.settings.name = "a";
  second.settings.name = "b";
  third.settings.name = "c";
  third.settings.backend_tls = {true, cert("ca.crt"), {cert("client.crt"), cert("client.key")}};
  std::vector<PoolSpec> pools{first, second, third};
  load_backend_tls(pools);
  REQUIRE(pools[0].settings.backend_tls_context);
  CHECK(pools[0].settings.backend_tls_context == pools[1].settings.backend_tls_context);
  REQUIRE(pools[2].settings.backend_tls_context);
  CHECK(pools[2].settings.backend_tls_context != pools[0].settings.backend_tls_context);

  std::vector<PoolSpec> bad{third};
  bad[0].settings.backend_tls.ca_file = cert("client.key");
  CHECK_THROWS_WITH(load_backend_tls(bad), Catch::Contains("pool 'c'") && Catch::Contains("client.key") &&
                                               Catch::Contains("no PEM certificates"));
  bad[0].settings.backend_tls = {true, "", {cert("client.crt"), cert("client2.key")}};
  CHECK_THROWS_WITH(load_backend_tls(bad), Catch::Contains("client2.key") && Catch::Contains("does not match"));
}
