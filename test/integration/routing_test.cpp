// Several services behind one load balancer (README "Several services"), through
// the real binaries: host and path routes, 404, strip-prefix, header rules on
// both sides, request ids, per-pool algorithms and health, admin add to a
// pool, --check, and SIGHUP changing routes under an in-flight request.
#include <catch2/catch.hpp>
#include <signal.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "test/support/backend_process.h"
#include "test/support/eventually.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name, const std::string& text = "")
      : path("/tmp/lb_routing_test_" + std::to_string(::getpid()) + "_" + name) {
    write(text);
  }
  ~TempFile() { std::remove(path.c_str()); }
  void write(const std::string& text) const { std::ofstream(path) << text; }
  std::string read() const {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

// GET `target` with `Host: host`; the response.
RawResponse get(int port, const std::string& host, const std::string& target, const HeaderList& extra = {}) {
  HeaderList headers{{"Host", host}};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return http_request(port, build_request("GET", target, headers));
}

// Which backend answered (its server_id), or "<status>" when no backend did.
std::string served_by(const RawResponse& response) {
  json body = json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("server_id")) return body["server_id"];
  return std::to_string(response.status);
}

}  // namespace

// The README's example: api.example.com to the API, /static/ to the files, the rest to the web app.
TEST_CASE("host and path routes pick the pool, no route is a 404", "[integration][routing]") {
  BackendProcess web, api, files;
  LoadBalancerProcess lb({}, {"-b", "web=" + web.url(), "-b", "api=" + api.url(), "-b", "files=" + files.url(),
                              "--route", "api.example.com=api", "--route", "*.cdn.example.com/static/=files",
                              "--route", "/static/=files", "--route", "www.example.com=web"});
  CHECK(served_by(get(lb.port(), "api.example.com", "/")) == api.id());
  CHECK(served_by(get(lb.port(), "API.Example.COM:8000", "/echo/v1?q=1")) == api.id());
  CHECK(served_by(get(lb.port(), "www.example.com", "/static/app.css")) == files.id());
  CHECK(served_by(get(lb.port(), "eu.cdn.example.com", "/static/")) == files.id());
  CHECK(served_by(get(lb.port(), "www.example.com", "/")) == web.id());
  CHECK(served_by(get(lb.port(), "www.example.com", "/static")) == web.id());  // "/static/" wants the slash
  // An absolute-form target's authority is the host routed on (RFC 9112 3.2.2).
  CHECK(served_by(http_request(lb.port(), "GET http://api.example.com/ HTTP/1.1\r\nHost: www.example.com\r\n\r\n")) ==
        api.id());

  RawResponse none = get(lb.port(), "other.example.org", "/");
  CHECK(none.status == 404);
  CHECK(json::parse(none.body) == json{{"error", "no route for this request"}});
  CHECK(none.header("Content-Type") == "application/json");
  // A 404 keeps the keep-alive connection: the next request on it is served.
  ScopedFd fd(connect_to(lb.port()));
  send_all(fd.get(), build_request("GET", "/", {{"Host", "nowhere"}}));
  CHECK(read_response(fd.get()).status == 404);
  send_all(fd.get(), build_request("GET", "/", {{"Host", "api.example.com"}}));
  CHECK(served_by(read_response(fd.get())) == api.id());
}

// Without routes everything goes to "default"; with routes, "default" only through one.
TEST_CASE("the default pool is reached only through a route once there are routes", "[integration][routing]") {
  BackendProcess main, api;
  LoadBalancerProcess lb({main.url()}, {"-b", "api=" + api.url(), "--route", "/api=api"});
  CHECK(served_by(get(lb.port(), "h", "/api")) == api.id());
  CHECK(get(lb.port(), "h", "/").status == 404);
  LoadBalancerProcess routed({main.url()}, {"-b", "api=" + api.url(), "--route", "/api=api", "--route", "/=default"});
  CHECK(served_by(get(routed.port(), "h", "/")) == main.id());
}

// strip-prefix, and header rules on the request and the response (config file only).
TEST_CASE("strip-prefix and header rules on both sides", "[integration][routing]") {
  BackendProcess api, web;
  TempFile config("rules.json", R"({
    "pools": {"api": {"backends": [")" + api.url() + R"("]}, "web": {"backends": [")" + web.url() + R"("]}},
    "routes": [
      {"path": "/api", "pool": "api", "strip-prefix": true,
       "request-headers": {"set": {"X-Env": "prod"}, "add": {"X-Tag": "lb"}, "remove": ["X-Debug", "X-Forwarded-Host"]},
       "response-headers": {"set": {"X-Served-By": "api-pool"}, "add": {"X-Frame-Options": "DENY"},
                            "remove": ["Content-Type"]}},
      {"path": "/", "pool": "web"}
    ]})");
  LoadBalancerProcess lb({}, {"--config", config.path});

  RawResponse response = get(lb.port(), "site", "/api/echo/users?page=2",
                             {{"X-Env", "dev"}, {"X-Debug", "1"}, {"X-Tag", "client"}});
  REQUIRE(response.status == 200);
  json seen = json::parse(response.body);
  CHECK(seen["server_id"] == api.id());
  CHECK(seen["path"] == "/echo/users?page=2");  // prefix gone, query kept
  CHECK(seen["headers"]["X-Env"] == "prod");      // set replaced the client's
  CHECK(seen["headers"]["X-Tag"] == "client, lb");  // add appended
  CHECK_FALSE(seen["headers"].contains("X-Debug"));
  CHECK_FALSE(seen["headers"].contains("X-Forwarded-Host"));  // ours too, when the rule names it
  CHECK(seen["headers"]["X-Forwarded-For"] == "127.0.0.1");
  CHECK(response.header("X-Served-By") == "api-pool");
  CHECK(response.header("X-Frame-Options") == "DENY");
  CHECK_FALSE(response.header("Content-Type"));

  CHECK(json::parse(get(lb.port(), "site", "/api").body)["path"] == "/");  // "/api" -> "/"
  RawResponse other = get(lb.port(), "site", "/echo/x", {{"X-Debug", "1"}});  // another route: no rules
  CHECK(json::parse(other.body)["headers"]["X-Debug"] == "1");
  CHECK(other.header("Content-Type") == "application/json");
  CHECK_FALSE(other.header("X-Served-By"));
}

// --request-id-header: a fresh 128-bit id when the client sent none, the
// client's own otherwise; forwarded, returned, in the access log and the trace.
TEST_CASE("request id round trip", "[integration][routing]") {
  BackendProcess backend;
  TempFile log("access.log");
  std::string fresh_id;
  {
    LoadBalancerProcess lb({backend.url()}, {"--request-id-header", "X-Request-ID", "--access-log", log.path,
                                             "--access-log-format", "json", "--trace-header"});
    RawResponse fresh = get(lb.port(), "h", "/");
    REQUIRE(fresh.header("X-Request-ID"));
    fresh_id = *fresh.header("X-Request-ID");
    CHECK(std::regex_match(fresh_id, std::regex("[0-9a-f]{32}")));
    CHECK(json::parse(fresh.body)["headers"]["X-Request-ID"] == fresh_id);  // the backend saw the same id
    CHECK_THAT(*fresh.header("X-LB-Trace"), Catch::StartsWith("request_id=" + fresh_id + "; "));
    CHECK(*get(lb.port(), "h", "/").header("X-Request-ID") != fresh_id);  // a new one per request

    RawResponse given = get(lb.port(), "h", "/", {{"X-Request-ID", "client-chosen-1"}});
    CHECK(given.headers_named("X-Request-ID") == std::vector<std::string>{"client-chosen-1"});
    CHECK(json::parse(given.body)["headers"]["X-Request-ID"] == "client-chosen-1");

    RawResponse refused = http_request(lb.port(), "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n");
    CHECK(refused.status == 405);
    CHECK(refused.header("X-Request-ID"));  // our own answers carry it too
    lb.process().signal(SIGTERM);
    REQUIRE(lb.process().wait_exit(10s) == 0);
  }
  std::istringstream lines(log.read());
  std::set<std::string> logged;
  for (std::string line; std::getline(lines, line);) {
    json entry = json::parse(line);
    logged.insert(entry.value("request_id", ""));
    CHECK(entry["pool"] == (entry["status"] == 200 ? "default" : ""));
  }
  CHECK(logged.count(fresh_id) == 1);
  CHECK(logged.count("client-chosen-1") == 1);
}

// Each pool balances with its own algorithm and is checked on its own health path.
TEST_CASE("per-pool algorithm and health", "[integration][routing]") {
  BackendProcess a1, a2, b1, b2, c1;
  TempFile config("pools.json", R"({
    "health-interval": 0.2,
    "pools": {
      "rr": {"backends": [")" + a1.url() + R"(", ")" + a2.url() + R"("]},
      "lc": {"backends": [")" + b1.url() + R"(", ")" + b2.url() + R"("], "algorithm": "least-connections"},
      "down": {"backends": [")" + c1.url() + R"("], "health-path": "/nothing-here"}
    },
    "routes": [{"host": "rr.test", "pool": "rr"}, {"host": "lc.test", "pool": "lc"}, {"host": "down.test", "pool": "down"}]})");
  LoadBalancerProcess lb({}, {"--config", config.path, "--admin-port", "0"});

  // One slow request holds a backend of each pool; then six quick ones per pool.
  auto spread_beside_a_slow_request = [&](const std::string& host, BackendProcess& one, BackendProcess& other) {
    ScopedFd slow(connect_to(lb.port()));
    send_all(slow.get(), build_request("GET", "/slow?ms=1500", {{"Host", host}}));
    // Wait until it holds one of the pool's backends (least-connections must see it).
    REQUIRE(eventually([&] {
      return one.process().count_lines("/slow?ms=1500: waiting") + other.process().count_lines("/slow?ms=1500: waiting") == 1;
    }));
    std::map<std::string, int> spread;
    for (int i = 0; i < 6; ++i) ++spread[served_by(get(lb.port(), host, "/"))];
    ++spread[served_by(read_response(slow.get())) + " (slow)"];
    return spread;
  };
  auto rr = spread_beside_a_slow_request("rr.test", a1, a2);  // round-robin takes turns whatever is in flight
  CHECK(rr[a1.id()] + rr[a2.id()] == 6);
  CHECK(rr[a1.id()] >= 2);
  CHECK(rr[a2.id()] >= 2);
  auto lc = spread_beside_a_slow_request("lc.test", b1, b2);  // least-connections avoids the busy one
  const std::string busy = lc.count(b1.id() + " (slow)") ? b1.id() : b2.id();
  const std::string idle = busy == b1.id() ? b2.id() : b1.id();
  CHECK(lc[idle] == 6);
  CHECK(lc[busy] == 0);

  // /nothing-here answers 404, so the "down" pool has no healthy backend: 503 there only.
  RawResponse down = get(lb.port(), "down.test", "/");
  CHECK(down.status == 503);
  CHECK(json::parse(down.body)["error"] == "no healthy backend available");
  CHECK(get(lb.port(), "rr.test", "/").status == 200);

  json status = json::parse(http_request(lb.admin_port(), build_request("GET", "/status")).body);
  REQUIRE(status["pools"].size() == 3);
  CHECK(status["pools"][0]["name"] == "rr");
  CHECK(status["pools"][1]["algorithm"] == "least-connections");
  CHECK(status["pools"][2]["health_path"] == "/nothing-here");
  CHECK(status["pools"][2]["backends"][0]["healthy"] == false);
  CHECK(status["pools"][2]["backends"][0]["last_check"]["detail"] == "status 404");
  std::string metrics = http_request(lb.admin_port(), build_request("GET", "/metrics")).body;
  CHECK_THAT(metrics, Catch::Contains("lb_backend_healthy{pool=\"down\",backend=\"" + c1.url() + "\"} 0"));
  CHECK_THAT(metrics, Catch::Contains("lb_backend_healthy{pool=\"rr\",backend=\"" + a1.url() + "\"} 1"));
}

// POST /backends takes "pool"; the new backend serves that pool's routes only.
TEST_CASE("admin adds a backend to a named pool", "[integration][routing][admin]") {
  BackendProcess web, api, api2;
  LoadBalancerProcess lb({}, {"-b", "web=" + web.url(), "-b", "api=" + api.url(), "--route", "/api=api", "--route",
                              "/=web", "--admin-port", "0", "--health-interval", "0.2"});
  RawResponse added = http_request(lb.admin_port(), build_request("POST", "/backends", {},
                                                                  R"({"url": ")" + api2.url() + R"(", "pool": "api"})"));
  REQUIRE(added.status == 201);
  CHECK(json::parse(added.body)["pool"] == "api");
  CHECK(eventually([&] {
    std::set<std::string> seen;
    for (int i = 0; i < 4; ++i) seen.insert(served_by(get(lb.port(), "h", "/api")));
    return seen == std::set<std::string>{api.id(), api2.id()};
  }));
  for (int i = 0; i < 4; ++i) CHECK(served_by(get(lb.port(), "h", "/")) == web.id());

  RawResponse unknown = http_request(lb.admin_port(), build_request("POST", "/backends", {},
                                                                    R"({"url": ")" + api2.url() + R"(", "pool": "nope"})"));
  CHECK(unknown.status == 404);
  CHECK_THAT(json::parse(unknown.body)["error"].get<std::string>(), Catch::Contains("no pool named 'nope'"));
  RawResponse twice = http_request(lb.admin_port(), build_request("POST", "/backends", {},
                                                                  R"({"url": ")" + api2.url() + R"(", "pool": "api"})"));
  CHECK(twice.status == 409);
}

// --check prints the routing table and warns of a shadowed route, which is an
// error (exit 2) without --check; config errors name the route.
TEST_CASE("the routing table printed by --check, shadowed and unknown routes", "[integration][routing][config]") {
  auto [ok, table] = run_load_balancer_to_exit({"-b", "web=http://127.0.0.1:9", "-b", "api=http://127.0.0.1:10", "--route",
                                  "api.example.com=api", "--route", "/=web", "--route", "/static/=web", "--check"});
  CHECK(ok == 0);
  CHECK_THAT(table, Catch::Contains("pool       web: round-robin, health /health every 5 s"));
  CHECK_THAT(table, Catch::Contains("    backend  http://127.0.0.1:10 weight=1"));
  CHECK_THAT(table, Catch::Contains("route 1    api.example.com -> api"));
  CHECK_THAT(table, Catch::Contains("route 3    /static/ -> web"));
  CHECK_THAT(table, Catch::Contains("warning: route 3 (/static/) can never match: route 2 (/) matches every request it would"));

  auto [shadowed, shadowed_output] = run_load_balancer_to_exit({"-b", "http://127.0.0.1:9", "--route", "/=default", "--route",
                                                  "/static/=default", "--port", "0"});
  CHECK(shadowed == 2);
  CHECK_THAT(shadowed_output, Catch::Contains("route 2 (/static/) can never match"));
  CHECK(std::count(shadowed_output.begin(), shadowed_output.end(), '\n') == 1);  // one line

  auto [unknown, unknown_output] = run_load_balancer_to_exit({"-b", "http://127.0.0.1:9", "--route", "/api=apii", "--port", "0"});
  CHECK(unknown == 2);
  CHECK_THAT(unknown_output, Catch::Contains("route 1 (/api): unknown pool 'apii'"));
}

// SIGHUP swaps pools and routes together; a request in flight on the old
// routes finishes, and the next request follows the new ones.
TEST_CASE("SIGHUP changes routes without dropping an in-flight request", "[integration][routing][config]") {
  BackendProcess web, api;
  TempFile config("reload.json", R"({"backends": [")" + web.url() + R"("]})");
  LoadBalancerProcess lb({}, {"--config", config.path});
  ScopedFd kept(connect_to(lb.port()));  // a keep-alive client across the reload
  send_all(kept.get(), build_request("GET", "/api"));
  REQUIRE(served_by(read_response(kept.get())) == web.id());  // web's 404 for /api: no routes yet
  ScopedFd in_flight(connect_to(lb.port()));
  send_all(in_flight.get(), build_request("GET", "/slow?ms=800"));
  REQUIRE(web.process().wait_for_line("/slow?ms=800: waiting", 10s));  // at the backend: in flight

  config.write(R"({"pools": {"default": {"backends": [")" + web.url() + R"("]}, "api": {"backends": [")" + api.url() +
               R"("]}}, "routes": [{"path": "/api", "pool": "api", "strip-prefix": true}, {"path": "/", "pool": "default"}]})");
  lb.process().signal(SIGHUP);
  REQUIRE(lb.process().wait_for_line("[Reload] applied: 2 backends in 2 pools, 2 routes", 5s));
  RawResponse slow = read_response(in_flight.get());
  CHECK(slow.status == 200);
  CHECK(served_by(slow) == web.id());
  send_all(kept.get(), build_request("GET", "/api"));
  RawResponse routed = read_response(kept.get());
  CHECK(served_by(routed) == api.id());
  CHECK(json::parse(routed.body)["path"] == "/");

  // A route to a pool that does not exist: rejected whole, the routes stay.
  config.write(R"({"backends": [")" + web.url() + R"("], "routes": [{"path": "/x", "pool": "missing"}]})");
  lb.process().signal(SIGHUP);
  CHECK(lb.process().wait_for_line("[Reload] rejected: route 1 (/x): unknown pool 'missing'", 5s));
  CHECK(served_by(get(lb.port(), "h", "/api")) == api.id());
}
