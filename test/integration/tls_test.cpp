// TLS termination, SNI, the HTTP->HTTPS redirect and https:// backends,
// through the real binaries, checked with curl and openssl as clients.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>

#include "test/support/backend_process.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/shell.h"
#include "test/support/test_certificates.h"

using namespace test_support;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> tls_flags(const std::string& name = "server") {
  const auto& certs = test_certificates();
  return {"--tls-cert", certs.path((name + ".crt").c_str()), "--tls-key", certs.path((name + ".key").c_str())};
}

std::string curl(int port, const std::string& extra = "") {
  return "curl -sS --max-time 10 --cacert " + test_certificates().path("ca.crt") + " " + extra +
         " https://localhost:" + std::to_string(port) + "/";
}

}  // namespace

// HTTPS on the listening port; the backend is told the client used https.
TEST_CASE("TLS termination", "[integration][tls]") {
  BackendProcess backend;
  LoadBalancerProcess lb({backend.url()}, tls_flags());
  auto [status, body] = shell(curl(lb.port()));
  CHECK(status == 0);
  CHECK_THAT(body, Catch::Contains("\"X-Forwarded-Proto\":\"https\""));
  CHECK_THAT(body, Catch::Contains(backend.id()));
  // TLS 1.3 and 1.2 are accepted; 1.1 is refused.
  CHECK(shell(curl(lb.port(), "--tlsv1.2 --tls-max 1.2")).first == 0);
  CHECK(shell("openssl s_client -tls1_1 -connect 127.0.0.1:" + std::to_string(lb.port()) + " </dev/null").first != 0);
}

// Several certificates: SNI picks the one for the requested name.
TEST_CASE("SNI chooses the certificate", "[integration][tls]") {
  BackendProcess backend;
  auto flags = tls_flags("server");
  auto second = tls_flags("second");
  flags.insert(flags.end(), second.begin(), second.end());
  LoadBalancerProcess lb({backend.url()}, flags);
  std::string port = std::to_string(lb.port());
  auto [status, body] = shell("curl -sS --max-time 10 --cacert " + test_certificates().path("ca.crt") +
                              " --resolve api.example.test:" + port + ":127.0.0.1 https://api.example.test:" + port +
                              "/");
  CHECK(status == 0);
  CHECK_THAT(body, Catch::Contains(backend.id()));
  CHECK(shell(curl(lb.port())).first == 0);  // localhost still gets the default certificate
}

// Plain HTTP sent to the TLS port gets a clean 400 at once, never a hang.
TEST_CASE("plain HTTP on the TLS port", "[integration][tls]") {
  BackendProcess backend;
  LoadBalancerProcess lb({backend.url()}, tls_flags());
  RawResponse response = http_request(lb.port(), build_request("GET", "/"), 3s);
  CHECK(response.status == 400);
  CHECK_THAT(response.body, Catch::Contains("HTTPS"));
}

// --redirect-http answers 308 with the same path and query on https://.
TEST_CASE("HTTP to HTTPS redirect", "[integration][tls]") {
  BackendProcess backend;
  auto flags = tls_flags();
  flags.insert(flags.end(), {"--redirect-http", "0"});
  LoadBalancerProcess lb({backend.url()}, flags);
  int redirect_port = lb.process().port_from_listening_line(5s, "redirect listening on ");
  RawResponse response =
      http_request(redirect_port, build_request("POST", "/cart?item=%26a", {{"Host", "shop.test:8080"}}, "x=1"));
  CHECK(response.status == 308);
  CHECK(response.header("Location") == "https://shop.test:" + std::to_string(lb.port()) + "/cart?item=%26a");
}

// Bad certificate files stop start-up with a clear message and exit 2.
TEST_CASE("bad certificates are refused at start-up", "[integration][tls]") {
  const auto& certs = test_certificates();
  auto exit_of = [](const std::vector<std::string>& args) {
    ChildProcess process(bin_path("load_balancer"), args);
    int status = process.wait_exit(10s).value_or(-1);  // before output(): it completes the output
    return std::make_pair(status, process.output());
  };
  auto [mismatch, mismatch_output] = exit_of({"-b", "http://127.0.0.1:9", "--tls-cert", certs.path("server.crt"),
                                              "--tls-key", certs.path("other.key"), "--check"});
  CHECK(mismatch == 2);
  CHECK_THAT(mismatch_output, Catch::Contains("other.key"));
  auto [missing, missing_output] = exit_of({"-b", "http://127.0.0.1:9", "--tls-cert", "/nonexistent.crt", "--tls-key",
                                            certs.path("server.key")});
  CHECK(missing == 2);
  CHECK_THAT(missing_output, Catch::Contains("/nonexistent.crt"));
  auto [unpaired, unpaired_output] = exit_of({"-b", "http://127.0.0.1:9", "--tls-cert", certs.path("server.crt")});
  CHECK(unpaired == 2);
}

// https:// backends: verified against --backend-ca (health probes too); an
// unknown CA fails unless verification is turned off explicitly.
TEST_CASE("https backends", "[integration][tls]") {
  BackendProcess backend;
  LoadBalancerProcess tls_front({backend.url()}, tls_flags());  // plays the HTTPS backend
  std::string https_url = "https://localhost:" + std::to_string(tls_front.port());

  LoadBalancerProcess verified({https_url}, {"--backend-ca", test_certificates().path("ca.crt")});
  RawResponse ok = http_request(verified.port(), build_request("GET", "/"));
  CHECK(ok.status == 200);
  CHECK_THAT(ok.body, Catch::Contains(backend.id()));

  LoadBalancerProcess untrusted({https_url}, {"--health-interval", "60"});
  CHECK(untrusted.process().wait_for_line("is UNHEALTHY (TLS certificate verification failed)", 5s));
  CHECK(http_request(untrusted.port(), build_request("GET", "/")).status == 503);

  LoadBalancerProcess insecure({https_url}, {"--backend-insecure"});
  CHECK(http_request(insecure.port(), build_request("GET", "/")).status == 200);
}
