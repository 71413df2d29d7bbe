// README "Access control" through the real binaries and curl: --allow/--deny
// and a route's allow/deny from an allowed and a refused address (127.0.0.2
// plays another client, ::1 an IPv6 one), over HTTP/1.1 and HTTP/2; a refused
// request reaches no backend, is counted by reason and named in the trace.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/recording_backend.h"
#include "test/support/shell.h"

using namespace test_support;
using nlohmann::json;

namespace {

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name, const std::string& text = "")
      : path("/tmp/lb_access_test_" + std::to_string(::getpid()) + "_" + name) {
    std::ofstream(path) << text;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

// curl's status line, headers and body for `url`, sent from `from` (a local address).
std::string curl_from(const std::string& from, const std::string& url, const std::string& extra = "") {
  return shell("curl -sS -i --max-time 10 --interface " + from + " " + extra + " '" + url + "'").second;
}

std::string metrics_of(int admin_port) { return http_request(admin_port, build_request("GET", "/metrics")).body; }

std::string url_of(int port, const std::string& path = "/") { return "http://127.0.0.1:" + std::to_string(port) + path; }

}  // namespace

// --deny refuses one address with 403 and nothing forwarded; others pass.
TEST_CASE("access lists: --deny refuses that client with 403, nothing forwarded", "[integration][access]") {
  RecordingBackend backend;
  LoadBalancerProcess lb({backend.url()}, {"--deny", "127.0.0.2/32", "--admin-port", "0", "--trace-header"});
  CHECK(curl_from("127.0.0.1", url_of(lb.port())).find("HTTP/1.1 200") == 0);
  const std::string refused = curl_from("127.0.0.2", url_of(lb.port()));
  CHECK(refused.find("HTTP/1.1 403 Forbidden") == 0);
  CHECK(refused.find(R"({"error":"forbidden"})") != std::string::npos);
  CHECK(refused.find("X-LB-Trace: refused=deny 127.0.0.2/32 (--allow/--deny)") != std::string::npos);
  CHECK(backend.requests() == 1);
  const std::string metrics = metrics_of(lb.admin_port());
  CHECK(metrics.find("lb_edge_refused_total{reason=\"deny\"} 1") != std::string::npos);
  CHECK(metrics.find("lb_edge_refused_total{reason=\"not_allowed\"} 0") != std::string::npos);
  CHECK(metrics.find("lb_backend_failures_total{pool=\"default\",backend=\"" + backend.url() + "\"} 0") !=
        std::string::npos);
}

// --allow lets in only what it covers; HTTP/2 (h2c) is refused the same way.
TEST_CASE("access lists: --allow admits only its addresses, over HTTP/1.1 and HTTP/2", "[integration][access]") {
  RecordingBackend backend;
  LoadBalancerProcess lb({backend.url()}, {"--allow", "127.0.0.1", "--h2c", "--admin-port", "0"});
  CHECK(curl_from("127.0.0.1", url_of(lb.port())).find("HTTP/1.1 200") == 0);
  CHECK(curl_from("127.0.0.2", url_of(lb.port())).find("HTTP/1.1 403") == 0);
  const std::string h2 = curl_from("127.0.0.2", url_of(lb.port()), "--http2-prior-knowledge");
  CHECK(h2.find("HTTP/2 403") == 0);
  CHECK(h2.find(R"({"error":"forbidden"})") != std::string::npos);
  CHECK(curl_from("127.0.0.1", url_of(lb.port()), "--http2-prior-knowledge").find("HTTP/2 200") == 0);
  CHECK(backend.requests() == 2);
  CHECK(metrics_of(lb.admin_port()).find("lb_edge_refused_total{reason=\"not_allowed\"} 2") != std::string::npos);
}

// A route's allow/deny guard that route only; the others stay open.
TEST_CASE("a route's allow and deny guard that route alone", "[integration][access]") {
  RecordingBackend backend;
  TempFile config("routes.json", json{{"pools", {{"web", {{"backends", {backend.url()}}}}}},
                                      {"routes", json::array({{{"path", "/admin"}, {"pool", "web"}, {"allow", {"127.0.0.1/32"}}},
                                                              {{"path", "/private"}, {"pool", "web"}, {"deny", {"127.0.0.0/8"}}},
                                                              {{"pool", "web"}}})}}
                                     .dump());
  LoadBalancerProcess lb({}, {"--config", config.path, "--trace-header"});
  CHECK(curl_from("127.0.0.1", url_of(lb.port(), "/admin/x")).find("HTTP/1.1 200") == 0);
  const std::string refused = curl_from("127.0.0.2", url_of(lb.port(), "/admin/x"));
  CHECK(refused.find("HTTP/1.1 403") == 0);
  CHECK(refused.find("refused=no allow entry covers 127.0.0.2 (route /admin)") != std::string::npos);
  CHECK(curl_from("127.0.0.2", url_of(lb.port(), "/")).find("HTTP/1.1 200") == 0);
  CHECK(curl_from("127.0.0.1", url_of(lb.port(), "/private")).find("HTTP/1.1 403") == 0);
  CHECK(backend.requests() == 2);
}

// IPv6 clients are matched by their IPv6 address; IPv4 ones on the same socket by theirs.
TEST_CASE("access lists: --deny of ::1 refuses IPv6 clients only", "[integration][access]") {
  RecordingBackend backend;
  LoadBalancerProcess lb({backend.url()}, {"--bind", "::", "--port", "0", "--deny", "::1/128"});
  const std::string v6 = "http://[::1]:" + std::to_string(lb.port()) + "/";
  CHECK(shell("curl -sS -i --max-time 10 -g '" + v6 + "'").second.find("HTTP/1.1 403") == 0);
  CHECK(curl_from("127.0.0.1", url_of(lb.port())).find("HTTP/1.1 200") == 0);
  CHECK(backend.requests() == 1);
}

// Bad CIDRs stop the start and --check with one line and exit 2.
TEST_CASE("bad CIDRs in --allow/--deny and in a route are refused with exit 2", "[integration][access]") {
  RecordingBackend backend;
  auto [status, output] = run_load_balancer_to_exit({"-b", backend.url(), "--deny", "10.0.0.0/40"});
  CHECK(status == 2);
  CHECK(output == "load_balancer: invalid --deny \"10.0.0.0/40\": prefix length must be 0-32\n");
  std::tie(status, output) = run_load_balancer_to_exit({"-b", backend.url(), "--allow", "localhost", "--check"});
  CHECK(status == 2);
  CHECK(output == "load_balancer: invalid --allow \"localhost\": not an IP address or CIDR\n");
  TempFile config("bad.json", json{{"backends", {backend.url()}},
                                   {"routes", json::array({{{"pool", "default"}, {"deny", {"::1/200"}}}})}}
                                  .dump());
  std::tie(status, output) = run_load_balancer_to_exit({"--config", config.path, "--check"});
  CHECK(status == 2);
  CHECK(output ==
        "load_balancer: config key 'routes[0]': invalid deny entry \"::1/200\": prefix length must be 0-128\n");
}
