// Automatic HTTPS (README "Automatic HTTPS") against a real ACME server:
// Debian's pebble, with pebble-challtestsrv as its DNS. Certificates over
// HTTP-01 and TLS-ALPN-01, kept across a restart, renewed under a keep-alive
// client, and an ACME server that goes away: the certificate in use stays.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "test/support/backend_process.h"
#include "test/support/eventually.h"
#include "test/support/load_balancer_process.h"
#include "test/support/pebble_process.h"
#include "test/support/raw_http.h"
#include "test/support/shell.h"
#include "test/support/test_certificates.h"
#include "test/support/tls_client.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kName = "shop.example.test";

struct StateDir {
  std::string path;
  StateDir() {
    char pattern[] = "/tmp/lb_acme_state_XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    path = std::string(pattern) + "/acme";  // made by the load balancer
  }
  ~StateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(std::filesystem::path(path).parent_path(), ignored);
  }
  int mode(const std::string& file) const {
    struct stat info {};
    return ::stat((path + "/" + file).c_str(), &info) == 0 ? static_cast<int>(info.st_mode & 0777) : -1;
  }
};

std::vector<std::string> acme_flags(const PebbleProcess& pebble, const StateDir& state, bool http01) {
  std::vector<std::string> flags{"--port", std::to_string(pebble.tls_port()), "--acme-domain", kName,
                                 "--acme-directory", pebble.directory_url(), "--acme-ca", pebble.ca_file(),
                                 "--acme-state", state.path, "--admin-port", "0"};
  if (http01) flags.insert(flags.end(), {"--redirect-http", std::to_string(pebble.http_port())});
  return flags;
}

json certificate_status(LoadBalancerProcess& lb) {
  return json::parse(http_request(lb.admin_port(), build_request("GET", "/status")).body)["certificates"][0];
}

// A request over a new connection for kName, verified against `ca_file`: the answer, or the failure.
std::pair<int, std::string> fetch(int port, const std::string& ca_file) {
  try {
    TlsClient client(port, ca_file, kName);
    return client.exchange("GET / HTTP/1.1\r\nHost: " + kName + "\r\n\r\n");
  } catch (const std::runtime_error& e) {
    return {0, e.what()};
  }
}

}  // namespace

// First issuance over HTTP-01 with pebble refusing 40% of good nonces; before
// it, a self-signed placeholder; after a restart, the stored certificate at
// once, with pebble gone.
TEST_CASE("ACME: a certificate over HTTP-01, kept across a restart", "[integration][acme]") {
  REQUIRE(PebbleProcess::installed());  // scripts/deps.sh --test installs pebble
  PebbleProcess pebble({0, /*nonce_reject_percent=*/40});
  StateDir state;
  BackendProcess backend;
  pebble.stop();  // away at first: the placeholder, an error, a retry
  std::string issued_serial;
  {
    LoadBalancerProcess lb({backend.url()}, acme_flags(pebble, state, /*http01=*/true));
    REQUIRE(eventually([&] { return !certificate_status(lb)["last_error"].get<std::string>().empty(); }));
    json placeholder = certificate_status(lb);
    CHECK(placeholder["source"] == "placeholder");
    CHECK_THAT(placeholder["last_error"].get<std::string>(), Catch::Contains("cannot reach"));
    auto [status, text] = shell("openssl s_client -connect 127.0.0.1:" + std::to_string(lb.port()) +
                                " -servername " + kName + " </dev/null 2>/dev/null | openssl x509 -noout -issuer");
    CHECK_THAT(text, Catch::Contains("CN = " + kName));  // self-signed: its own issuer
    // The HTTP listener still redirects everything but the challenges.
    const RawResponse redirected = http_request(pebble.http_port(), build_request("GET", "/x"));
    CHECK(redirected.status == 308);

    pebble.start();
    REQUIRE(lb.process().wait_for_line("[ACME] " + kName + ": certificate issued", 30s));
    const std::string root = pebble.root_file();
    auto [answer, body] = fetch(lb.port(), root);
    CHECK(answer == 200);
    CHECK_THAT(body, Catch::Contains(backend.id()));
    TlsClient verified(lb.port(), root, kName);
    issued_serial = verified.peer_serial();
    json issued = certificate_status(lb);
    CHECK(issued["source"] == "issued");
    CHECK(issued["last_error"] == "");
    CHECK(issued["expires_in_seconds"].get<long>() > 86400);
    CHECK_THAT(http_request(lb.admin_port(), build_request("GET", "/metrics")).body,
               Catch::Contains("lb_tls_certificate_expiry_seconds{name=\"" + kName + "\"} "));
    CHECK(state.mode("account.key") == 0600);
    CHECK(state.mode(kName + ".pem") == 0600);
    CHECK(state.mode("") == 0700);
  }
  const std::string root = pebble.root_file();
  pebble.stop();
  LoadBalancerProcess restarted({backend.url()}, acme_flags(pebble, state, /*http01=*/true));
  TlsClient client(restarted.port(), root, kName);  // at once, before any order
  CHECK(client.peer_serial() == issued_serial);
  CHECK(client.exchange("GET / HTTP/1.1\r\nHost: " + kName + "\r\n\r\n").first == 200);
  CHECK(certificate_status(restarted)["source"] == "stored");
}

// Without --redirect-http only TLS-ALPN-01 can be answered: on the TLS
// listener, for a handshake offering "acme-tls/1", which is not asked for the
// client certificate every other handshake needs here.
TEST_CASE("ACME: a certificate over TLS-ALPN-01", "[integration][acme]") {
  REQUIRE(PebbleProcess::installed());
  PebbleProcess pebble({});
  StateDir state;
  BackendProcess backend;
  auto flags = acme_flags(pebble, state, /*http01=*/false);
  const auto& certs = test_certificates();
  flags.insert(flags.end(), {"--tls-client-ca", certs.path("ca.crt")});
  LoadBalancerProcess lb({backend.url()}, flags);
  REQUIRE(lb.process().wait_for_line("[ACME] " + kName + ": certificate issued", 30s));
  const std::string port = std::to_string(lb.port());
  const std::string curl = "curl -sS --max-time 10 --cacert " + pebble.root_file() + " --resolve " + kName + ":" +
                           port + ":127.0.0.1 https://" + kName + ":" + port + "/";
  auto [status, body] = shell(curl + " --cert " + certs.path("client.crt") + " --key " + certs.path("client.key"));
  CHECK(status == 0);
  CHECK_THAT(body, Catch::Contains(backend.id()));
  CHECK(shell(curl).first != 0);  // no client certificate
  // A handshake asking for acme-tls/1 with no challenge waiting is refused.
  CHECK(shell("openssl s_client -connect 127.0.0.1:" + std::to_string(lb.port()) + " -servername " + kName +
              " -alpn acme-tls/1 </dev/null").first != 0);
}

// A 15 s lifetime: renewed 10 s after each issuance, swapped in under a
// keep-alive client. Then pebble is stopped in the middle of the next order
// (while it waits to validate): the renewal fails, the certificate in use
// stays, and the retry succeeds once pebble is back.
TEST_CASE("ACME: renewal under a keep-alive client, and an ACME server stopped mid-order", "[integration][acme]") {
  REQUIRE(PebbleProcess::installed());
  PebbleProcess pebble({/*validity_seconds=*/15, 0, /*validation_sleep_seconds=*/3});
  StateDir state;
  BackendProcess backend;
  LoadBalancerProcess lb({backend.url()}, acme_flags(pebble, state, /*http01=*/true));
  const std::string issued = "[ACME] " + kName + ": certificate issued";
  REQUIRE(lb.process().wait_for_line(issued, 30s));
  const std::string root = pebble.root_file();
  TlsClient kept(lb.port(), root, kName);
  const std::string first_serial = kept.peer_serial();
  const std::string request = "GET / HTTP/1.1\r\nHost: " + kName + "\r\n\r\n";
  CHECK(kept.exchange(request).first == 200);

  REQUIRE(lb.process().wait_for_line(issued, 30s, 2));  // the renewal
  CHECK(kept.exchange(request).first == 200);            // the open connection carried on
  TlsClient renewed(lb.port(), root, kName);
  CHECK(renewed.peer_serial() != first_serial);

  // The third order: stopped while pebble sleeps before validating (a sleep
  // of 0 s may let that order finish first; the checks below hold either way).
  REQUIRE(pebble.process().wait_for_line("before validating", 30s, 3));
  pebble.stop();
  REQUIRE(lb.process().wait_for_line("keeping the current certificate", 30s));
  TlsClient during(lb.port(), root, kName);
  CHECK(certificate_status(lb)["source"] == "issued");
  CHECK_THAT(certificate_status(lb)["last_error"].get<std::string>(), Catch::Contains("cannot reach"));
  if (lb.process().count_lines(issued) == 2) CHECK(during.peer_serial() == renewed.peer_serial());

  pebble.start();  // a new pebble, which has never seen the account: it is made again
  const size_t issued_before = lb.process().count_lines(issued);
  REQUIRE(lb.process().wait_for_line(issued, 40s, issued_before + 1));
  CHECK(certificate_status(lb)["last_error"] == "");
  CHECK(fetch(lb.port(), pebble.root_file()).first == 200);
}

// What --check and the start refuse, with one line and exit 2.
TEST_CASE("ACME settings are checked before anything starts", "[integration][acme]") {
  const std::string backend = "http://127.0.0.1:1";
  auto refused = [&](std::vector<std::string> flags, const std::string& message) {
    flags.insert(flags.begin(), {"--check", "--backend", backend});
    auto [status, output] = run_load_balancer_to_exit(flags);
    CHECK(status == 2);
    CHECK_THAT(output, Catch::Contains(message));
  };
  refused({"--acme-domain", "*.example.test"}, "wildcards need the DNS-01 challenge");
  refused({"--acme-domain", "Bad_Name.test"}, "not a DNS name");
  refused({"--acme-domain", "a.example.test", "--acme-directory", "ftp://x"}, "not an http(s) URL");
  refused({"--acme-domain", "a.example.test", "--acme-email", "two words@x"}, "not an e-mail address");
  refused({"--acme-domain", "a.example.test", "--acme-ca", "/etc/hostname"}, "no PEM certificates");
  refused({"--acme-domain", "a.example.test", "--acme-state", "/etc/hostname/acme"}, "--acme-state /etc/hostname/acme");
  StateDir state;
  auto [status, output] = run_load_balancer_to_exit(
      {"--check", "--backend", backend, "--acme-domain", "a.example.test", "--acme-state", state.path,
       "--redirect-http", "0"});
  CHECK(status == 0);
  CHECK_THAT(output, Catch::Contains("acme       a.example.test from https://acme-v02.api.letsencrypt.org/directory"));
}
