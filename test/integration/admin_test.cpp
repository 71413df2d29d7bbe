// The admin server (--admin-port) through the real binaries: /status, /metrics,
// the dashboard page, adding, draining and removing backends, the bearer token.
#include <catch2/catch.hpp>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "test/support/backend_process.h"
#include "test/support/eventually.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kAdmin = {"--admin-port", "0", "--health-interval", "0.2"};

RawResponse admin_request(int port, const std::string& method, const std::string& target, const std::string& body = "",
                          const HeaderList& headers = {}) {
  return http_request(port, build_request(method, target, headers, body));
}

json status_of(int admin_port) {
  RawResponse response = admin_request(admin_port, "GET", "/status");
  REQUIRE(response.status == 200);
  return json::parse(response.body);
}

// The /status entry for `url` (null when it is not listed).
json entry_for(const json& status, const std::string& url) {
  for (const auto& backend : status["backends"]) {
    if (backend["url"] == url) return backend;
  }
  return nullptr;
}

std::string id_of(int admin_port, const std::string& url) {
  json entry = entry_for(status_of(admin_port), url);
  REQUIRE(entry.is_object());
  return entry["id"];
}

std::string served_by(int port) {
  RawResponse response = http_request(port, build_request("GET", "/"));
  REQUIRE(response.status == 200);
  return json::parse(response.body)["server_id"];
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

// A non-loopback IPv4 address of this machine, if it has one.
std::optional<std::string> external_ipv4() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (ifaddrs* item = list; item && !found; item = item->ifa_next) {
    if (!item->ifa_addr || item->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(item->ifa_addr)->sin_addr, text, sizeof text);
    if (std::string(text).rfind("127.", 0) != 0) found = text;
  }
  freeifaddrs(list);
  return found;
}

}  // namespace

// /status lists every backend in order with its health, weight and request count.
TEST_CASE("admin /status lists backends with health and counts", "[integration][admin]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url() + ",weight=2"}, kAdmin);
  int admin = lb.admin_port();
  for (int i = 0; i < 6; ++i) served_by(lb.port());

  RawResponse response = admin_request(admin, "GET", "/status");
  REQUIRE(response.status == 200);
  CHECK(response.header("Content-Type").value_or("").find("application/json") == 0);
  json status = json::parse(response.body);
  CHECK(status["algorithm"] == "round-robin");
  CHECK(status["uptime_seconds"].get<double>() >= 0);
  CHECK(status["open_connections"].is_number_unsigned());
  REQUIRE(status["backends"].size() == 2);
  json first = status["backends"][0], second = status["backends"][1];
  CHECK(first["url"] == a.url());
  CHECK(second["url"] == b.url());
  CHECK(std::regex_match(first["id"].get<std::string>(), std::regex("[0-9a-f]{12}")));
  CHECK(first["id"] != second["id"]);
  CHECK(first["weight"] == 1);
  CHECK(second["weight"] == 2);
  CHECK(first["healthy"] == true);
  CHECK(first["draining"] == false);
  CHECK(first["circuit"] == "closed");
  CHECK(first["last_check"]["passed"] == true);
  CHECK(first["requests"] == 2);  // smooth weighted round-robin: 1 of every 3
  CHECK(second["requests"] == 4);
  CHECK(first["failures"] == 0);
}

// /metrics counts the answers each backend gave, in Prometheus text format.
TEST_CASE("admin /metrics counts backend requests", "[integration][admin]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, kAdmin);
  int admin = lb.admin_port();
  for (int i = 0; i < 3; ++i) served_by(lb.port());
  CHECK(http_request(lb.port(), build_request("GET", "/no-such-page")).status == 404);

  std::string text;
  CHECK(eventually([&] {
    RawResponse response = admin_request(admin, "GET", "/metrics");
    text = response.body;
    return response.status == 200 &&
           has_line(text, "lb_backend_requests_total{pool=\"default\",backend=\"" + a.url() + "\",class=\"2xx\"} 3") &&
           has_line(text, "lb_backend_requests_total{pool=\"default\",backend=\"" + a.url() + "\",class=\"4xx\"} 1");
  }));
  INFO(text);
  CHECK(has_line(text, "# TYPE lb_backend_requests_total counter"));
  CHECK(has_line(text, "lb_backend_healthy{pool=\"default\",backend=\"" + a.url() + "\"} 1"));
  CHECK(has_line(text, "lb_responses_total{class=\"2xx\"} 3"));
  CHECK(admin_request(admin, "GET", "/metrics").header("Content-Type").value_or("").find("text/plain") == 0);
}

// GET / serves the dashboard page from the binary.
TEST_CASE("admin serves the dashboard page", "[integration][admin]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, kAdmin);
  RawResponse page = admin_request(lb.admin_port(), "GET", "/");
  CHECK(page.status == 200);
  CHECK(page.header("Content-Type").value_or("").find("text/html") == 0);
  CHECK(page.body.find("<title>Load balancer dashboard</title>") != std::string::npos);
  CHECK(page.body.find("api('status')") != std::string::npos);  // a relative URL: works behind a prefix
  CHECK(admin_request(lb.admin_port(), "GET", "/nope").status == 404);
}

// POST /backends adds a backend; once its health check passes it takes traffic.
TEST_CASE("admin adds a backend that then receives traffic", "[integration][admin]") {
  BackendProcess a, added;
  LoadBalancerProcess lb({a.url()}, kAdmin);
  int admin = lb.admin_port();

  RawResponse response = admin_request(admin, "POST", "/backends", json{{"url", added.url()}, {"weight", 2}}.dump());
  REQUIRE(response.status == 201);
  json entry = json::parse(response.body);
  CHECK(entry["url"] == added.url());
  CHECK(entry["weight"] == 2);
  CHECK(lb.process().wait_for_line("[Admin] added backend " + added.url(), 2s));

  CHECK(eventually([&] { return served_by(lb.port()) == added.id(); }));
  json listed = entry_for(status_of(admin), added.url());
  CHECK(listed["healthy"] == true);
  CHECK(listed["id"] == entry["id"]);
  CHECK(status_of(admin)["backends"].size() == 2);
}

// A new backend is health-checked at once, not after the next interval.
TEST_CASE("admin add probes the new backend at once", "[integration][admin]") {
  BackendProcess a, added;
  LoadBalancerProcess lb({a.url()}, {"--admin-port", "0", "--health-interval", "60"});
  int admin = lb.admin_port();
  REQUIRE(admin_request(admin, "POST", "/backends", json{{"url", added.url()}}.dump()).status == 201);
  CHECK(lb.process().wait_for_line(added.url() + " is HEALTHY", 5s));
  CHECK(eventually([&] { return served_by(lb.port()) == added.id(); }, 5s));
}

// Malformed bodies are refused with 400 and a JSON error naming the problem.
TEST_CASE("admin rejects bad backend JSON", "[integration][admin]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, kAdmin);
  int admin = lb.admin_port();
  for (const std::string& body : {std::string("{not json"), std::string("[]"), json{{"weight", 1}}.dump(),
                                  json{{"url", 8001}}.dump(), json{{"url", "ftp://127.0.0.1:21"}}.dump(),
                                  json{{"url", "http://127.0.0.1:9"}, {"weight", "heavy"}}.dump(),
                                  json{{"url", "http://127.0.0.1:9"}, {"weight", 0}}.dump()}) {
    INFO(body);
    RawResponse response = admin_request(admin, "POST", "/backends", body);
    CHECK(response.status == 400);
    CHECK(response.header("Content-Type").value_or("").find("application/json") == 0);
    CHECK(json::parse(response.body)["error"].is_string());
  }
  CHECK(status_of(admin)["backends"].size() == 1);
}

// Adding a URL that is already a backend is a conflict.
TEST_CASE("admin refuses a duplicate backend", "[integration][admin]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, kAdmin);
  RawResponse response = admin_request(lb.admin_port(), "POST", "/backends", json{{"url", a.url()}}.dump());
  CHECK(response.status == 409);
  CHECK(json::parse(response.body)["error"].get<std::string>().find(a.url()) != std::string::npos);
  CHECK(status_of(lb.admin_port())["backends"].size() == 1);
}

// A drained backend gets no new requests; enabling it brings it back.
TEST_CASE("admin drains and enables a backend", "[integration][admin]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()}, kAdmin);
  int admin = lb.admin_port();
  std::string id = id_of(admin, a.url());

  RawResponse drained = admin_request(admin, "POST", "/backends/" + id + "/drain");
  REQUIRE(drained.status == 200);
  CHECK(json::parse(drained.body)["draining"] == true);
  CHECK(entry_for(status_of(admin), a.url())["draining"] == true);
  auto before = entry_for(status_of(admin), a.url())["requests"].get<int>();
  for (int i = 0; i < 6; ++i) CHECK(served_by(lb.port()) == b.id());
  CHECK(entry_for(status_of(admin), a.url())["requests"] == before);

  RawResponse enabled = admin_request(admin, "POST", "/backends/" + id + "/enable");
  REQUIRE(enabled.status == 200);
  CHECK(json::parse(enabled.body)["draining"] == false);
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) seen.insert(served_by(lb.port()));
  CHECK(seen == std::set<std::string>{a.id(), b.id()});
}

// DELETE takes a backend out of /status and out of rotation.
TEST_CASE("admin removes a backend", "[integration][admin]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()}, kAdmin);
  int admin = lb.admin_port();

  RawResponse removed = admin_request(admin, "DELETE", "/backends/" + id_of(admin, a.url()));
  REQUIRE(removed.status == 200);
  CHECK(json::parse(removed.body)["url"] == a.url());
  json status = status_of(admin);
  REQUIRE(status["backends"].size() == 1);
  CHECK(status["backends"][0]["url"] == b.url());
  for (int i = 0; i < 6; ++i) CHECK(served_by(lb.port()) == b.id());
  CHECK(lb.process().wait_for_line("[Admin] removed backend " + a.url(), 2s));
}

// Unknown backend ids are 404 with a JSON error, for every per-backend action.
TEST_CASE("admin answers 404 for an unknown backend id", "[integration][admin]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, kAdmin);
  int admin = lb.admin_port();
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"DELETE", "/backends/0123456789ab"},
           {"POST", "/backends/0123456789ab/drain"},
           {"POST", "/backends/0123456789ab/enable"}}) {
    INFO(method << " " << target);
    RawResponse response = admin_request(admin, method, target);
    CHECK(response.status == 404);
    CHECK(json::parse(response.body)["error"] == "no such backend");
  }
  CHECK(status_of(admin)["backends"].size() == 1);
}

// With --admin-token every admin request needs `Authorization: Bearer <token>`.
TEST_CASE("admin token", "[integration][admin]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, {"--admin-port", "0", "--admin-token", "s3cret"});
  int admin = lb.admin_port();

  RawResponse missing = admin_request(admin, "GET", "/status");
  CHECK(missing.status == 401);
  CHECK(missing.header("WWW-Authenticate") == "Bearer");
  CHECK(json::parse(missing.body)["error"].is_string());
  CHECK(admin_request(admin, "GET", "/status", "", {{"Authorization", "Bearer wrong"}}).status == 401);
  CHECK(admin_request(admin, "GET", "/metrics").status == 401);
  CHECK(admin_request(admin, "POST", "/backends", json{{"url", "http://127.0.0.1:9"}}.dump()).status == 401);
  CHECK(admin_request(admin, "GET", "/status", "", {{"Authorization", "Bearer s3cret"}}).status == 200);
  CHECK(admin_request(admin, "GET", "/metrics", "", {{"Authorization", "Bearer s3cret"}}).status == 200);
}

// The admin server listens on 127.0.0.1 only, even when the proxy listens on all addresses.
TEST_CASE("admin binds 127.0.0.1 by default", "[integration][admin]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, {"--bind", "0.0.0.0", "--admin-port", "0"});
  int admin = lb.admin_port();
  CHECK(lb.process().wait_for_line("admin listening on 127.0.0.1:" + std::to_string(admin), 1s));
  CHECK(admin_request(admin, "GET", "/status").status == 200);

  std::optional<std::string> external = external_ipv4();
  if (!external) return;  // no other address to try
  INFO("external address " << *external);
  ScopedFd proxy(connect_to(*external, lb.port()));  // the proxy is there ...
  CHECK_THROWS_AS(ScopedFd(connect_to(*external, admin)), RawHttpError);  // ... the admin server is not
}

// With --admin-token the dashboard page itself loads without it (a browser
// cannot send a bearer token on navigation; the page holds no data and asks for
// the token); /status, /metrics and the actions need it.
TEST_CASE("admin token: the dashboard page loads without it", "[integration][admin]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, {"--admin-port", "0", "--admin-token", "s3cret"});
  int admin = lb.admin_port();
  CHECK(admin_request(admin, "GET", "/").status == 200);
  CHECK(admin_request(admin, "GET", "/status").status == 401);
}

// A POST without Content-Length, as `curl -X POST URL` sends, has an empty body
// (RFC 9112 6.3) and is answered at once (cpp-httplib 0.11 would wait for the
// client to close).
TEST_CASE("admin drain without a request body answers at once", "[integration][admin]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, kAdmin);
  int admin = lb.admin_port();
  std::string request = "POST /backends/" + id_of(admin, a.url()) + "/drain HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  RawResponse response = http_request(admin, request, 2s);
  CHECK(response.status == 200);
}
