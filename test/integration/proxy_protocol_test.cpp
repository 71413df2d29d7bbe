// --proxy-protocol-from (README "Running several
// instances") through the real binaries: the client address of a v1 or v2 header
// from a trusted peer is the one the backend is told; a malformed header, a
// missing one, or one from an untrusted peer closes the connection unanswered.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "test/support/backend_process.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/shell.h"
#include "test/support/test_certificates.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

// A v2 PROXY header for TCP over IPv4 from 203.0.113.9:40000 to 10.0.0.5:80.
std::string v2_header() {
  const std::string addresses("\xcb\x00\x71\x09" "\x0a\x00\x00\x05" "\x9c\x40" "\x00\x50", 12);
  return kV2Signature + std::string("\x21\x11\x00\x0c", 4) + addresses;
}

// What the backend was told about the client, for `GET /` after `prefix`.
std::string forwarded_for_after(int port, const std::string& prefix) {
  ScopedFd fd(connect_to(port));
  send_all(fd.get(), prefix + build_request("GET", "/"));
  RawResponse response = read_response(fd.get());
  REQUIRE(response.status == 200);
  return json::parse(response.body)["headers"]["X-Forwarded-For"];
}

// Sends `bytes` and returns everything the load balancer sends back before it closes.
std::string answer_to(int port, const std::string& bytes) {
  ScopedFd fd(connect_to(port));
  send_all(fd.get(), bytes);
  return read_until_close(fd.get(), 5s);
}

std::string metrics_of(int admin_port) { return http_request(admin_port, build_request("GET", "/metrics")).body; }

}  // namespace

TEST_CASE("PROXY v1 and v2 headers from a trusted peer name the client", "[integration][proxy-protocol]") {
  BackendProcess backend;
  LoadBalancerProcess lb({backend.url()}, {"--proxy-protocol-from", "127.0.0.0/8"});
  CHECK(forwarded_for_after(lb.port(), "PROXY TCP4 203.0.113.7 10.0.0.5 51234 80\r\n") == "203.0.113.7");
  CHECK(forwarded_for_after(lb.port(), "PROXY TCP6 2001:db8::7 2001:db8::1 51234 80\r\n") == "2001:db8::7");
  CHECK(forwarded_for_after(lb.port(), v2_header()) == "203.0.113.9");
  CHECK(forwarded_for_after(lb.port(), "PROXY UNKNOWN\r\n") == "127.0.0.1");  // the balancer's own: the peer

  // The address holds for every request on the connection.
  ScopedFd fd(connect_to(lb.port()));
  send_all(fd.get(), "PROXY TCP4 198.51.100.4 10.0.0.5 1000 80\r\n" + build_request("GET", "/"));
  CHECK(json::parse(read_response(fd.get()).body)["headers"]["X-Forwarded-For"] == "198.51.100.4");
  send_all(fd.get(), build_request("GET", "/"));
  CHECK(json::parse(read_response(fd.get()).body)["headers"]["X-Forwarded-For"] == "198.51.100.4");
}

TEST_CASE("a trusted peer without a valid PROXY header is closed unanswered", "[integration][proxy-protocol]") {
  BackendProcess backend;
  LoadBalancerProcess lb({backend.url()}, {"--proxy-protocol-from", "127.0.0.1", "--admin-port", "0"});
  CHECK(answer_to(lb.port(), build_request("GET", "/")).empty());  // no header at all
  CHECK(answer_to(lb.port(), "PROXY TCP4 203.0.113.7 10.0.0.5 99999 80\r\n" + build_request("GET", "/")).empty());
  CHECK(answer_to(lb.port(), "PROXY TCP4 nonsense\r\n").empty());
  CHECK(answer_to(lb.port(), kV2Signature + std::string("\x21\x51\x00\x00", 4)).empty());  // unknown family
  REQUIRE(lb.process().wait_for_line("[Proxy] PROXY header from 127.0.0.1", 2s));
  CHECK(lb.process().count_lines("[Proxy] PROXY header from 127.0.0.1") == 1);  // once a minute per address
  CHECK_THAT(metrics_of(lb.admin_port()), Catch::Contains("lb_proxy_header_refused_total 4"));
  CHECK(forwarded_for_after(lb.port(), "PROXY TCP4 203.0.113.7 10.0.0.5 51234 80\r\n") == "203.0.113.7");
}

TEST_CASE("a PROXY header from an untrusted peer is refused", "[integration][proxy-protocol]") {
  BackendProcess backend;
  LoadBalancerProcess lb({backend.url()}, {"--proxy-protocol-from", "10.0.0.0/8", "--admin-port", "0"});
  CHECK(answer_to(lb.port(), "PROXY TCP4 203.0.113.7 10.0.0.5 51234 80\r\n" + build_request("GET", "/")).empty());
  CHECK(answer_to(lb.port(), v2_header() + build_request("GET", "/")).empty());
  CHECK_THAT(metrics_of(lb.admin_port()), Catch::Contains("lb_proxy_header_refused_total 2"));
  // Its ordinary requests are served, the client being the peer itself.
  CHECK(forwarded_for_after(lb.port(), "") == "127.0.0.1");
  RawResponse post = http_request(lb.port(), build_request("POST", "/p", {}, "PROXY is just a word here"));
  CHECK(post.status == 200);
}

// On a TLS port too, before the handshake.
TEST_CASE("a PROXY header from an untrusted peer is refused before TLS", "[integration][proxy-protocol][tls]") {
  BackendProcess backend;
  const auto& certs = test_certificates();
  LoadBalancerProcess lb({backend.url()}, {"--proxy-protocol-from", "10.0.0.0/8", "--tls-cert", certs.path("server.crt"),
                                           "--tls-key", certs.path("server.key"), "--admin-port", "0"});
  CHECK(answer_to(lb.port(), "PROXY TCP4 203.0.113.7 10.0.0.5 51234 443\r\n").empty());
  CHECK(answer_to(lb.port(), v2_header()).empty());
  CHECK_THAT(metrics_of(lb.admin_port()), Catch::Contains("lb_proxy_header_refused_total 2"));
  CHECK(lb.process().wait_for_line("[Proxy] PROXY header from 127.0.0.1: peer not in --proxy-protocol-from", 2s));
}

// curl's --haproxy-protocol sends a v1 header before its TLS handshake.
TEST_CASE("PROXY header before TLS, from curl", "[integration][proxy-protocol][tls]") {
  BackendProcess backend;
  const auto& certs = test_certificates();
  LoadBalancerProcess lb({backend.url()}, {"--proxy-protocol-from", "127.0.0.1", "--tls-cert", certs.path("server.crt"),
                                           "--tls-key", certs.path("server.key")});
  auto [status, output] = shell("curl -sS --max-time 10 --haproxy-protocol --cacert " + certs.path("ca.crt") +
                                 " https://localhost:" + std::to_string(lb.port()) + "/");
  CHECK(status == 0);
  CHECK_THAT(output, Catch::Contains(backend.id()));
  CHECK_THAT(output, Catch::Contains("\"X-Forwarded-Proto\":\"https\""));
}
