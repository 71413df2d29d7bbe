// Failover that loses nothing and does not make an outage worse (retry on
// timeout, the retry budget, outlier ejection, slow start), with real processes.
#include <catch2/catch.hpp>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <unistd.h>
#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "test/support/backend_process.h"
#include "test/support/eventually.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/recording_backend.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

json admin_json(LoadBalancerProcess& lb, const std::string& target) {
  RawResponse response = http_request(lb.admin_port(), build_request("GET", target));
  REQUIRE(response.status == 200);
  return json::parse(response.body);
}

std::string metrics_of(LoadBalancerProcess& lb) {
  return http_request(lb.admin_port(), build_request("GET", "/metrics")).body;
}

// The value of one sample line ("name{labels} value") in /metrics text.
double metric(const std::string& text, const std::string& sample) {
  size_t at = text.find("\n" + sample + " ");
  REQUIRE(at != std::string::npos);
  return std::stod(text.substr(at + sample.size() + 2));
}

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

}  // namespace

// A GET whose backend sends nothing within --try-timeout is answered by the next
// backend; the trace and the access log name the timeout; a POST keeps its 504.
TEST_CASE("retry on timeout", "[integration][failover]") {
  RecordingBackend frozen(kOk, 5s);  // accepts, answers health checks, sits on requests
  RecordingBackend fast;
  const std::string log = "failover-access-" + std::to_string(::getpid()) + ".log";
  LoadBalancerProcess lb({frozen.url(), fast.url()},
                         {"--try-timeout", "0.3", "--backend-timeout", "1.5", "--trace-header", "--access-log", log,
                          "--access-log-format", "json", "--admin-port", "0"});
  auto started = Clock::now();
  RawResponse answered = http_request(lb.port(), build_request("GET", "/first"));
  auto took = Clock::now() - started;
  CHECK(answered.status == 200);
  CHECK(took >= 225ms);  // the try timeout is jittered over its last quarter
  CHECK(took < 1200ms);
  CHECK(answered.header("X-LB-Trace").value_or("").find("tried=" + frozen.url() + " (timeout)") != std::string::npos);
  CHECK(fast.requests() == 1);
  json status = admin_json(lb, "/status");
  CHECK(status["backends"][0]["failures"] == 1);
  // Counted once the retry's answer is relayed: the client may ask before that.
  CHECK(eventually([&] { return metric(metrics_of(lb), "lb_retries_total{result=\"success\"}") == 1; }));

  CHECK(eventually([&] {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find("\"tried\":\"" + frozen.url() + " (timeout)\"") != std::string::npos;
  }));
  std::remove(log.c_str());

  // Non-replayable: no second try, 504 after --backend-timeout.
  LoadBalancerProcess post_lb({frozen.url(), fast.url()}, {"--try-timeout", "0.3", "--backend-timeout", "1.5"});
  started = Clock::now();
  RawResponse post = http_request(post_lb.port(), build_request("POST", "/order", {}, "x=1"));
  took = Clock::now() - started;
  CHECK(post.status == 504);
  CHECK(took >= 1400ms);
  CHECK(fast.requests() == 1);
}

// With the default --try-timeout each try waits the whole --backend-timeout
// (as nginx's proxy_read_timeout), and a GET that timed out is still retried
// (before, a frozen backend's requests were all 504s: README "Failure modes").
TEST_CASE("retry on timeout with the default --try-timeout", "[integration][failover]") {
  RecordingBackend frozen(kOk, 5s);
  RecordingBackend fast;
  LoadBalancerProcess lb({frozen.url(), fast.url()}, {"--backend-timeout", "0.6", "--trace-header"});
  auto started = Clock::now();
  RawResponse answered = http_request(lb.port(), build_request("GET", "/"));
  auto took = Clock::now() - started;
  CHECK(answered.status == 200);
  CHECK(took >= 550ms);  // the first try waited the whole --backend-timeout (no jitter)
  CHECK(took < 1200ms);
  CHECK(answered.header("X-LB-Trace").value_or("").find("tried=" + frozen.url() + " (timeout)") != std::string::npos);
  CHECK(fast.requests() == 1);
}

// A backend that dies between its response head and its body (killed while
// writing) has sent the client nothing yet: the head waits for the body's
// first bytes. A GET goes to the next backend; a POST gets a clear 502 instead
// of a response cut short.
TEST_CASE("a backend that closes after its response head: GET retried, POST 502", "[integration][failover]") {
  RecordingBackend dying("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
  dying.close_after_response();
  RecordingBackend fast;
  LoadBalancerProcess lb({dying.url(), fast.url()}, {"--trace-header"});
  RawResponse get = http_request(lb.port(), build_request("GET", "/"));  // round-robin: `dying` first
  CHECK(get.status == 200);
  CHECK(get.body == "ok");
  CHECK(dying.requests() == 1);
  CHECK(get.header("X-LB-Trace").value_or("").find("tried=" + dying.url()) != std::string::npos);
  http_request(lb.port(), build_request("GET", "/"));  // `fast`: the next POST goes to `dying`
  RawResponse post = http_request(lb.port(), build_request("POST", "/", {}, "once"));
  CHECK(post.status == 502);
  CHECK(json::parse(post.body)["error"] == "backend closed the connection");
  CHECK(dying.requests() == 2);
}

// --backend-timeout bounds all tries of a request together.
TEST_CASE("retries on timeout stay within --backend-timeout", "[integration][failover]") {
  RecordingBackend a(kOk, 5s), b(kOk, 5s), c(kOk, 5s);
  LoadBalancerProcess lb({a.url(), b.url(), c.url()}, {"--try-timeout", "0.4", "--backend-timeout", "1", "--retries", "5"});
  auto started = Clock::now();
  CHECK(http_request(lb.port(), build_request("GET", "/")).status == 504);
  auto took = Clock::now() - started;
  CHECK(took >= 950ms);
  CHECK(took < 1400ms);
}

// With every backend frozen, retries stay within 20% of the requests of the
// last 10 s (the floor of 3 a second adds nothing once they are used): 20
// clients cause at most 24 requests to backends.
TEST_CASE("the retry budget caps retries in an outage", "[integration][failover]") {
  RecordingBackend a(kOk, 3s), b(kOk, 3s), c(kOk, 3s);
  LoadBalancerProcess lb({a.url(), b.url(), c.url()},
                         {"--try-timeout", "0.5", "--backend-timeout", "2", "--admin-port", "0"});
  constexpr int kClients = 20;
  std::vector<std::thread> clients;
  std::atomic<int> gateway_timeouts{0};
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      if (http_request(lb.port(), build_request("GET", "/"), 10s).status == 504) ++gateway_timeouts;
    });
  }
  for (auto& client : clients) client.join();
  CHECK(gateway_timeouts == kClients);
  const int sent = a.requests() + b.requests() + c.requests();
  CHECK(sent >= kClients);
  CHECK(sent <= kClients * 12 / 10);
  std::string metrics = metrics_of(lb);
  CHECK(metric(metrics, "lb_retries_total{result=\"over_budget\"}") >= kClients - 4);
}

// Consecutive 5xx eject a backend for --eject-seconds; never more than half the
// pool; it is logged, shown in /status and /metrics, and comes back by itself.
TEST_CASE("outlier ejection", "[integration][failover]") {
  BackendProcess a, b, c;
  LoadBalancerProcess lb({a.url(), b.url(), c.url()},
                         {"--eject-after", "2", "--eject-seconds", "1", "--retries", "0", "--health-interval", "0.2",
                          "--admin-port", "0"});
  // a, b, c, a: a's second failure in a row ejects it. An attempt's outcome is
  // recorded just after its answer is sent, so the ejection is awaited before
  // b's second failure can race it.
  for (int i = 0; i < 4; ++i) CHECK(http_request(lb.port(), build_request("GET", "/status/500")).status == 500);
  REQUIRE(lb.process().wait_for_line(a.url() + " is EJECTED for 1 s (2 consecutive failures)", 2s));
  for (int i = 0; i < 2; ++i) CHECK(http_request(lb.port(), build_request("GET", "/status/500")).status == 500);
  json status;
  REQUIRE(eventually([&] {
    status = admin_json(lb, "/status");
    return status["backends"][1]["failures"] == 2;
  }));
  CHECK(status["backends"][0]["ejected"] == true);
  CHECK(status["backends"][0]["ejections"] == 1);
  CHECK(status["backends"][1]["ejected"] == false);  // two of three would be more than half
  CHECK(metric(metrics_of(lb), "lb_backend_ejected{pool=\"default\",backend=\"" + a.url() + "\"}") == 1);
  for (int i = 0; i < 4; ++i) {
    RawResponse response = http_request(lb.port(), build_request("GET", "/"));
    REQUIRE(response.status == 200);
    CHECK(json::parse(response.body)["server_id"] != a.id());
  }
  CHECK(lb.process().wait_for_line(a.url() + " is back from ejection", 3s));
  CHECK(admin_json(lb, "/status")["backends"][0]["ejected"] == false);
}

// A backend whose health returns ramps up from 10% (--slow-start), visible in
// /status and the decision trace.
TEST_CASE("slow start after a health return", "[integration][failover]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()},
                         {"--slow-start", "60", "--health-interval", "0.2", "--trace-header", "--admin-port", "0"});
  CHECK(admin_json(lb, "/status")["backends"][1]["weight_percent"] == 100);  // start-up: no ramp
  REQUIRE(http_request(b.port(), build_request("POST", "/health/fail")).status == 200);
  CHECK(lb.process().wait_for_line(b.url() + " is UNHEALTHY", 3s));
  REQUIRE(http_request(b.port(), build_request("POST", "/health/recover")).status == 200);
  CHECK(lb.process().wait_for_line(b.url() + " is HEALTHY", 3s, /*occurrence=*/2));
  int percent = admin_json(lb, "/status")["backends"][1]["weight_percent"];
  CHECK(percent >= 10);
  CHECK(percent < 20);
  std::string trace = http_request(lb.port(), build_request("GET", "/")).header("X-LB-Trace").value_or("");
  CHECK(std::regex_search(trace, std::regex(b.url() + " ok\\(w=1 slow-start=1[0-9]% active=0\\)")));
  // Over 40 requests b gets its share of a ramp near 10%: far fewer than a.
  int to_b = 0;
  for (int i = 0; i < 40; ++i) {
    to_b += json::parse(http_request(lb.port(), build_request("GET", "/")).body)["server_id"] == b.id();
  }
  CHECK(to_b >= 2);
  CHECK(to_b <= 8);
}
