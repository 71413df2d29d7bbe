// What /status and /metrics say, from hand-made backends and counters (no server).
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "lb/balancing/balancer.h"
#include "lb/operations/metrics.h"
#include "lb/operations/status_report.h"

using namespace lb;
using nlohmann::json;

namespace {

std::shared_ptr<Backend> make_backend(const std::string& host, uint16_t port, int weight = 1,
                                      CircuitSettings circuit = {}) {
  BackendSettings settings;
  settings.circuit = circuit;
  return std::make_shared<Backend>(BackendSpec{"http", host, port, weight}, settings);
}

// One pool "default" over `backends`, as a Balancer would build it without pools.
Topology make_topology(BackendList backends, const std::string& algorithm = "round-robin") {
  auto pool = std::make_shared<BackendPool>();
  pool->backends = std::move(backends);
  pool->selector = make_selector(algorithm, pool->backends);
  Topology topology;
  topology.pools.push_back(pool);
  topology.default_pool = pool.get();
  return topology;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line(const std::string& text, const std::string& line) {
  auto lines = lines_of(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// Drives a breaker open: with min_requests 1, one failure is a ratio of 1.
void trip(Backend& backend) {
  lb::CircuitTicket ticket = backend.breaker().begin_request();
  REQUIRE(ticket);
  backend.breaker().end_request(ticket, false);
  REQUIRE(backend.breaker().state() == CircuitState::Open);
}

}  // namespace

// One backend's entry has exactly the documented fields, with its live values.
TEST_CASE("backend_status fields and values", "[status]") {
  auto backend = make_backend("127.0.0.1", 8001, 3);
  backend->record_check(true, "200");
  backend->active_requests = 2;
  backend->requests_total = 41;
  backend->failures_total = 5;
  backend->draining = true;

  json status = backend_status(*backend);
  std::set<std::string> keys;
  for (const auto& item : status.items()) keys.insert(item.key());
  CHECK(keys == std::set<std::string>{"id", "pool", "url", "weight", "healthy", "draining", "circuit", "ejected",
                                      "ejected_seconds_left", "ejections", "passive", "weight_percent",
                                      "active_requests", "in_flight", "latency_ms", "max_requests", "requests", "failures", "fault", "last_check", "discovered_by"});
  CHECK(status["id"] == backend->id);
  CHECK(status["pool"] == "default");
  CHECK(status["url"] == "http://127.0.0.1:8001");
  CHECK(status["weight"] == 3);
  CHECK(status["healthy"] == true);
  CHECK(status["draining"] == true);
  CHECK(status["circuit"] == "closed");
  CHECK(status["ejected"] == false);
  CHECK(status["ejected_seconds_left"] == 0);
  CHECK(status["ejections"] == 0);
  CHECK(status["passive"] == "serving");
  CHECK(status["weight_percent"] == 100);
  CHECK(status["active_requests"] == 2);
  CHECK(status["requests"] == 41);
  CHECK(status["failures"] == 5);
  CHECK(status["last_check"]["passed"] == true);
  CHECK(status["last_check"]["detail"] == "200");
  std::string time = status["last_check"]["time"];
  CHECK(std::regex_match(time, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  CHECK(status["fault"].is_null());  // none at start

  FaultSettings fault;
  fault.abort_percent = 50;
  backend->set_fault(fault);
  CHECK(backend_status(*backend)["fault"]["abort_percent"] == 50.0);
  backend->set_fault(FaultSettings{});  // an empty fault clears it
  CHECK(backend_status(*backend)["fault"].is_null());
}

// The id is 12 hex digits derived from the URL: stable, and distinct per URL.
TEST_CASE("backend ids are stable short hex", "[status]") {
  auto a = make_backend("127.0.0.1", 8001), again = make_backend("127.0.0.1", 8001);
  auto b = make_backend("127.0.0.1", 8002);
  CHECK(std::regex_match(a->id, std::regex("[0-9a-f]{12}")));
  CHECK(a->id == again->id);
  CHECK(a->id != b->id);
}

// Before any check a backend is unhealthy with an empty last_check; a failed
// check or a passive failure shows its reason.
TEST_CASE("backend_status before and after failures", "[status]") {
  auto backend = make_backend("127.0.0.1", 8001);
  json fresh = backend_status(*backend);
  CHECK(fresh["healthy"] == false);
  CHECK(fresh["last_check"] == json{{"passed", false}, {"detail", ""}, {"time", ""}});

  backend->record_check(false, "connection refused");
  CHECK(backend_status(*backend)["last_check"]["detail"] == "connection refused");
  CHECK(backend_status(*backend)["last_check"]["time"] != "");

  backend->record_check(true, "200");
  backend->mark_down("connection reset");
  json down = backend_status(*backend);
  CHECK(down["healthy"] == false);
  CHECK(down["last_check"]["passed"] == false);
  CHECK(down["last_check"]["detail"] == "connection reset");
}

// The circuit field names the breaker's state: closed, open, half-open.
TEST_CASE("backend_status circuit states", "[status]") {
  CircuitSettings settings;
  settings.min_requests = 1;
  settings.open_for = std::chrono::milliseconds(0);  // open period over at once
  auto backend = make_backend("127.0.0.1", 8001, 1, settings);
  CHECK(backend_status(*backend)["circuit"] == "closed");
  trip(*backend);
  CHECK(backend_status(*backend)["circuit"] == "open");
  REQUIRE(backend->breaker().begin_request());  // the first trial half-opens it
  CHECK(backend_status(*backend)["circuit"] == "half-open");
}

// The document: algorithm, sticky cookie, uptime, open connections, and every
// backend in the pool's order.
TEST_CASE("status_json document", "[status]") {
  Topology pool = make_topology({make_backend("127.0.0.1", 8001), make_backend("127.0.0.1", 8002, 2)});
  pool.pools[0]->backends[1]->record_check(true, "200");
  json status = status_json(pool, 7, std::chrono::milliseconds(90500));
  CHECK(status["algorithm"] == "round-robin");
  CHECK(status["sticky_cookie"] == "");
  CHECK(status["uptime_seconds"].get<double>() == Approx(90.5));
  CHECK(status["open_connections"] == 7);
  REQUIRE(status["backends"].size() == 2);
  CHECK(status["backends"][0]["url"] == "http://127.0.0.1:8001");
  CHECK(status["backends"][0]["healthy"] == false);
  CHECK(status["backends"][1]["url"] == "http://127.0.0.1:8002");
  CHECK(status["backends"][1]["weight"] == 2);
  CHECK(status["backends"][1]["healthy"] == true);

  json empty = status_json(make_topology({}, "least-connections"), 0, std::chrono::seconds(0));
  CHECK(empty["backends"] == json::array());
  CHECK(empty["algorithm"] == "least-connections");
}

// A Balancer's pool reports its sticky cookie name and the backends it was given.
TEST_CASE("status_json from a Balancer with sticky sessions", "[status]") {
  BalancingPolicy policy;
  policy.algorithm = "least-connections";
  policy.sticky_cookie = "lb_session";
  PoolSpec spec;  // member by member: GCC 12 misreads a nested brace init of PoolSettings (-Wmaybe-uninitialized)
  spec.settings.policy = policy;
  spec.backends = {BackendSpec{"http", "10.0.0.1", 80, 1}, BackendSpec{"http", "::1", 81, 5}};
  Balancer balancer(BackendSettings{}, {spec}, {});
  json status = status_json(*balancer.current(), 0, std::chrono::seconds(3));
  CHECK(status["algorithm"] == "least-connections");
  CHECK(status["sticky_cookie"] == "lb_session");
  REQUIRE(status["backends"].size() == 2);
  CHECK(status["backends"][1]["url"] == "http://[::1]:81");
  CHECK(status["backends"][1]["weight"] == 5);
  auto found = balancer.find(status["backends"][1]["id"].get<std::string>());  // the id the admin API takes
  REQUIRE(found);
  CHECK(found->url == "http://[::1]:81");
}

// Counters come out as exact Prometheus sample lines.
TEST_CASE("metrics_text counters and gauges", "[metrics]") {
  CircuitSettings circuit;
  circuit.min_requests = 1;
  Topology pool = make_topology({make_backend("127.0.0.1", 8001), make_backend("127.0.0.1", 8002, 1, circuit)});
  Backend& a = *pool.pools[0]->backends[0];
  Backend& b = *pool.pools[0]->backends[1];
  a.record_check(true, "200");
  a.record_check(true, "200");
  b.record_check(false, "connection refused");
  a.responses_by_class[2] = 5;
  a.responses_by_class[5] = 1;
  a.failures_total = 2;
  a.active_requests = 3;
  // Ejected, then its breaker tripped directly: both gauges at once, for the
  // formatting (through PassiveHealth an opening circuit would end the ejection).
  b.eject_until(std::chrono::steady_clock::now() + std::chrono::hours(1), std::chrono::steady_clock::now());
  trip(b);

  Metrics metrics;
  metrics.observe_response(200, 0.01);
  metrics.observe_response(204, 0.01);
  metrics.observe_response(404, 0.01);
  metrics.observe_response(503, 0.01);
  metrics.rate_limited = 4;
  metrics.retries_succeeded = 3;
  metrics.retries_over_budget = 1;
  std::string text = metrics_text(pool, metrics, 9, 5);

  CHECK(has_line(text, R"(lb_responses_total{class="1xx"} 0)"));
  CHECK(has_line(text, R"(lb_responses_total{class="2xx"} 2)"));
  CHECK(has_line(text, R"(lb_responses_total{class="3xx"} 0)"));
  CHECK(has_line(text, R"(lb_responses_total{class="4xx"} 1)"));
  CHECK(has_line(text, R"(lb_responses_total{class="5xx"} 1)"));
  CHECK(has_line(text, "lb_open_connections 9"));
  CHECK(has_line(text, "lb_open_streams 5"));
  CHECK(has_line(text, "lb_rate_limited_total 4"));
  CHECK(has_line(text, R"(lb_retries_total{result="success"} 3)"));
  CHECK(has_line(text, R"(lb_retries_total{result="failure"} 0)"));
  CHECK(has_line(text, R"(lb_retries_total{result="over_budget"} 1)"));

  const std::string first = R"(pool="default",backend="http://127.0.0.1:8001")",
                    second = R"(pool="default",backend="http://127.0.0.1:8002")";
  CHECK(has_line(text, "lb_backend_requests_total{" + first + R"(,class="2xx"} 5)"));
  CHECK(has_line(text, "lb_backend_requests_total{" + first + R"(,class="4xx"} 0)"));
  CHECK(has_line(text, "lb_backend_requests_total{" + first + R"(,class="5xx"} 1)"));
  CHECK(has_line(text, "lb_backend_requests_total{" + second + R"(,class="2xx"} 0)"));
  CHECK(has_line(text, "lb_backend_failures_total{" + first + "} 2"));
  CHECK(has_line(text, "lb_backend_active_requests{" + first + "} 3"));
  CHECK(has_line(text, "lb_backend_latency_seconds{" + second + "} 0.000000"));  // nothing answered yet
  CHECK(has_line(text, "lb_backend_healthy{" + first + "} 1"));
  CHECK(has_line(text, "lb_backend_healthy{" + second + "} 0"));
  CHECK(has_line(text, "lb_backend_circuit_state{" + first + "} 0"));
  CHECK(has_line(text, "lb_backend_circuit_state{" + second + "} 2"));
  CHECK(has_line(text, "lb_backend_ejected{" + first + "} 0"));
  CHECK(has_line(text, "lb_backend_ejected{" + second + "} 1"));
  CHECK(has_line(text, "lb_backend_ejections_total{" + second + "} 1"));
  CHECK(has_line(text, "lb_health_checks_total{" + first + R"(,result="pass"} 2)"));
  CHECK(has_line(text, "lb_health_checks_total{" + first + R"(,result="fail"} 0)"));
  CHECK(has_line(text, "lb_health_checks_total{" + second + R"(,result="fail"} 1)"));
  CHECK(text.back() == '\n');
}

// Histogram buckets are cumulative, inclusive of their upper bound, and end
// with +Inf == _count; _sum adds the observed seconds.
TEST_CASE("metrics_text duration histogram", "[metrics]") {
  Metrics metrics;
  for (double seconds : {0.0005, 0.001, 0.003, 0.2, 3.0, 12.0}) metrics.observe_response(200, seconds);
  std::string text = metrics_text(make_topology({}), metrics, 0);

  const std::vector<std::pair<std::string, int>> expected = {
      {"0.001", 2}, {"0.0025", 2}, {"0.005", 3}, {"0.01", 3}, {"0.025", 3}, {"0.05", 3}, {"0.1", 3},
      {"0.25", 4},  {"0.5", 4},    {"1", 4},     {"2.5", 4},  {"10", 5},   {"+Inf", 6}};
  std::vector<std::string> buckets;
  for (const auto& line : lines_of(text)) {
    if (line.rfind("lb_request_duration_seconds_bucket", 0) == 0) buckets.push_back(line);
  }
  REQUIRE(buckets.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(buckets[i] == "lb_request_duration_seconds_bucket{le=\"" + expected[i].first + "\"} " +
                            std::to_string(expected[i].second));
  }
  CHECK(has_line(text, "lb_request_duration_seconds_count 6"));
  std::smatch sum;
  REQUIRE(std::regex_search(text, sum, std::regex(R"(\nlb_request_duration_seconds_sum (\S+)\n)")));
  CHECK(std::stod(sum[1]) == Approx(15.2045).margin(1e-5));  // microsecond resolution
}

// Backslash, double quote and newline in a label value are escaped, so a
// sample never spills onto a second line.
TEST_CASE("metrics_text escapes label values", "[metrics]") {
  Topology pool = make_topology({make_backend("we\"ird\\host\nname", 8001)});
  std::string text = metrics_text(pool, Metrics{}, 0);
  CHECK(has_line(text, R"(lb_backend_failures_total{pool="default",backend="http://we\"ird\\host\nname:8001"} 0)"));
  for (const auto& line : lines_of(text)) {
    INFO(line);
    CHECK(std::regex_match(line, std::regex(R"((# (HELP|TYPE) \w+ .+)|(\w+(\{.*\})? \S+))")));
  }
}

// Every metric family is announced by one HELP and one TYPE line before its
// first sample, with a valid type; counters are named *_total.
TEST_CASE("metrics_text HELP and TYPE for every family", "[metrics]") {
  Topology pool = make_topology({make_backend("127.0.0.1", 8001), make_backend("127.0.0.1", 8002)});
  std::string text = metrics_text(pool, Metrics{}, 0);
  std::map<std::string, int> help, type;
  std::map<std::string, std::string> type_of;
  std::set<std::string> families;
  std::regex comment(R"(# (HELP|TYPE) (\w+) (.+))"), sample(R"((\w+)(\{.*\})? \S+)");
  for (const auto& line : lines_of(text)) {
    std::smatch m;
    if (std::regex_match(line, m, comment)) {
      (m[1] == "HELP" ? help : type)[m[2]]++;
      if (m[1] == "TYPE") type_of[m[2]] = m[3];
      continue;
    }
    REQUIRE(std::regex_match(line, m, sample));
    std::string family = std::regex_replace(std::string(m[1]), std::regex("_(bucket|sum|count)$"), "");
    auto histogram = type_of.find(family);
    if (histogram == type_of.end() || histogram->second != "histogram") family = m[1];  // only histograms have suffixes
    INFO(line);
    CHECK(help[family] == 1);  // announced before the sample
    CHECK(type[family] == 1);
    families.insert(family);
  }
  for (const char* name : {"lb_responses_total", "lb_request_duration_seconds", "lb_open_connections",
                           "lb_rate_limited_total", "lb_backend_requests_total", "lb_backend_failures_total",
                           "lb_backend_active_requests", "lb_backend_latency_seconds", "lb_backend_healthy",
                           "lb_backend_circuit_state",
                           "lb_health_checks_total", "lb_retries_total", "lb_backend_ejected",
                           "lb_backend_ejections_total"}) {
    CHECK(families.count(name) == 1);
  }
  for (const auto& [name, kind] : type_of) {
    INFO(name);
    CHECK(families.count(name) == 1);  // no family announced without samples
    CHECK(help[name] == 1);
    CHECK(type[name] == 1);
    CHECK((kind == "counter" || kind == "gauge" || kind == "histogram"));
    if (kind == "counter") CHECK(name.size() > 6);
    if (kind == "counter") CHECK(name.substr(name.size() - 6) == "_total");
  }
}

// Pools group their backends, each with its own algorithm and health path;
// "backends" still lists them all, and metrics label each with its pool.
TEST_CASE("status_json and metrics_text group backends by pool", "[status][metrics]") {
  PoolSettings api{"api", {"least-connections", "", ""}, "/ready", std::chrono::milliseconds(500)};
  PoolSettings web{"web", {}, "/health", std::chrono::seconds(5)};
  Route route = parse_route_match("api.example.com");
  route.pool = "api";
  Balancer balancer(BackendSettings{},
                    {{api, {BackendSpec{"http", "10.0.0.1", 80, 1}}},
                     {web, {BackendSpec{"http", "10.0.0.2", 80, 1}, BackendSpec{"http", "10.0.0.1", 80, 1}}}},
                    {route});
  json status = status_json(*balancer.current(), 0, std::chrono::seconds(1));
  REQUIRE(status["pools"].size() == 2);
  CHECK(status["pools"][0]["name"] == "api");
  CHECK(status["pools"][0]["algorithm"] == "least-connections");
  CHECK(status["pools"][0]["health_path"] == "/ready");
  CHECK(status["pools"][0]["health_interval_seconds"] == 0.5);
  CHECK(status["pools"][0]["backends"].size() == 1);
  CHECK(status["pools"][1]["backends"][1]["pool"] == "web");
  CHECK(status["backends"].size() == 3);
  CHECK(status["routes"] == json::array({{{"host", "api.example.com"}, {"path", ""}, {"pool", "api"}, {"strip_prefix", false}}}));
  // The same URL in two pools is two backends with two ids.
  CHECK(status["pools"][0]["backends"][0]["id"] != status["pools"][1]["backends"][1]["id"]);

  std::string text = metrics_text(*balancer.current(), Metrics{}, 0);
  CHECK(has_line(text, R"(lb_backend_healthy{pool="api",backend="http://10.0.0.1:80"} 0)"));
  CHECK(has_line(text, R"(lb_backend_healthy{pool="web",backend="http://10.0.0.1:80"} 0)"));
}
