// SIGHUP applies everything but the listening and admin addresses (README
// "Reload"): a keep-alive TLS client and an in-flight slow request live
// through a reload that swaps the certificate, shortens a timeout, changes the
// rate limit and adds a pool.
#include <catch2/catch.hpp>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test/support/backend_process.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/test_certificates.h"
#include "test/support/tls_client.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct TempConfig {
  std::string path = "/tmp/lb_reload_test_" + std::to_string(::getpid()) + ".json";
  explicit TempConfig(const std::string& text) { write(text); }
  ~TempConfig() { std::remove(path.c_str()); }
  void write(const std::string& text) const { std::ofstream(path) << text; }
};

std::string config_text(const std::string& cert, const std::string& extra) {
  const auto& certs = test_certificates();
  return R"({"tls-cert": [")" + certs.path((cert + ".crt").c_str()) + R"("], "tls-key": [")" +
         certs.path((cert + ".key").c_str()) + R"("], )" + extra + "}";
}

}  // namespace

TEST_CASE("SIGHUP swaps the certificate, timeouts, rate limit and pools under live connections",
          "[integration][reload][tls]") {
  BackendProcess web, api;
  TempConfig config(config_text("server", R"("backends": [")" + web.url() +
                                              R"("], "backend-timeout": 5, "rate-limit": 1000, "rate-burst": 1000)"));
  LoadBalancerProcess lb({}, {"--config", config.path});

  TlsClient kept(lb.port(), test_certificates().path("ca.crt"));  // a keep-alive client across the reload
  CHECK(kept.peer_common_name() == "localhost");
  CHECK(kept.exchange(build_request("GET", "/")).first == 200);
  TlsClient slow(lb.port(), test_certificates().path("ca.crt"));
  slow.send(build_request("GET", "/slow?ms=1000"));  // in flight across the reload
  REQUIRE(web.process().wait_for_line("/slow?ms=1000: waiting", 10s));

  config.write(config_text("second", R"("pools": {"default": {"backends": [")" + web.url() +
                                         R"("]}, "api": {"backends": [")" + api.url() +
                                         R"("]}}, "routes": [{"path": "/api", "pool": "api"}, {"path": "/", "pool": "default"}],
      "backend-timeout": 0.3, "rate-limit": 0.1, "rate-burst": 4)"));
  REQUIRE(lb.process().signal(SIGHUP));
  REQUIRE(lb.process().wait_for_line("[Reload] applied", 5s));
  CHECK(slow.receive().first == 200);  // it started under the 5 s timeout and keeps it

  // The old connection goes on with its certificate; a new handshake gets the new one.
  CHECK(kept.exchange(build_request("GET", "/")).first == 200);          // token 1 of the new bucket
  CHECK(kept.peer_common_name() == "localhost");
  TlsClient fresh(lb.port(), test_certificates().path("ca.crt"));
  CHECK(fresh.peer_common_name() == "api.example.test");
  CHECK(fresh.exchange(build_request("GET", "/slow?ms=1000")).first == 504);  // token 2: the new 0.3 s timeout
  auto [api_status, api_body] = fresh.exchange(build_request("GET", "/api"));  // token 3: the new pool
  CHECK(json::parse(api_body)["server_id"] == api.id());
  CHECK(fresh.exchange(build_request("GET", "/")).first == 200);          // token 4
  CHECK(fresh.exchange(build_request("GET", "/")).first == 429);          // the new limit: 4, then 0.1/s

  // A certificate that does not match its key: rejected whole, nothing changes.
  const auto& certs = test_certificates();
  config.write(R"({"tls-cert": [")" + certs.path("server.crt") + R"("], "tls-key": [")" + certs.path("other.key") +
               R"("], "backends": [")" + web.url() + R"("]})");
  REQUIRE(lb.process().signal(SIGHUP));
  CHECK(lb.process().wait_for_line("[Reload] rejected", 5s));
  TlsClient after(lb.port(), test_certificates().path("ca.crt"));
  CHECK(after.peer_common_name() == "api.example.test");
}
