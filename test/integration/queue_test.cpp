// --max-requests and the pool queue, with real clients: a request beyond the
// limit waits and is served in its turn; a full queue and a queue timeout are
// 503 with Retry-After at once; a queued client that hangs up leaves the
// queue and no backend sees its request; PUT /pools/{name} retunes a pool.
#include <catch2/catch.hpp>

#include <future>
#include <nlohmann/json.hpp>

#include "test/support/eventually.h"
#include "test/support/h2_client.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/recording_backend.h"

using namespace std::chrono_literals;
using json = nlohmann::json;
using namespace test_support;

namespace {

json pool_status(LoadBalancerProcess& lb) {
  return json::parse(http_request(lb.admin_port(), build_request("GET", "/status")).body)["pools"][0];
}

// A GET on its own connection, answered in another thread.
std::future<RawResponse> get_async(int port) {
  return std::async(std::launch::async, [port] { return http_get(port); });
}

}  // namespace

TEST_CASE("requests beyond --max-requests wait their turn, a full queue is refused at once", "[integration][queue]") {
  RecordingBackend backend("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 400ms);
  LoadBalancerProcess lb({backend.url()}, {"--max-requests", "1", "--queue-size", "1", "--admin-port", "0"});
  auto first = get_async(lb.port());
  REQUIRE(eventually([&] { return pool_status(lb)["backends"][0]["in_flight"] == 1; }));
  auto second = get_async(lb.port());
  REQUIRE(eventually([&] { return pool_status(lb)["queued"] == 1; }));

  const auto asked = std::chrono::steady_clock::now();
  const RawResponse third = http_get(lb.port());
  const auto took = std::chrono::steady_clock::now() - asked;
  CHECK(third.status == 503);
  CHECK(third.header("Retry-After") == std::optional<std::string>("1"));
  CHECK(json::parse(third.body)["error"] == "queue full");
  CHECK(took < 100ms);  // refused without waiting (well under 10 ms on a quiet machine)

  CHECK(first.get().status == 200);
  CHECK(second.get().status == 200);  // served once the first gave its place back
  CHECK(backend.requests() == 2);
  const std::string metrics = http_request(lb.admin_port(), build_request("GET", "/metrics")).body;
  CHECK_THAT(metrics, Catch::Contains("lb_requests_shed_total{reason=\"queue_full\"} 1"));
  CHECK_THAT(metrics, Catch::Contains("lb_queue_wait_seconds_count 1"));
  CHECK_THAT(metrics, Catch::Contains("lb_queue_length{pool=\"default\"} 0"));
}

TEST_CASE("a request queued longer than --queue-timeout gets 503 and never reaches a backend", "[integration][queue]") {
  RecordingBackend backend("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1500ms);
  LoadBalancerProcess lb({backend.url()}, {"--max-requests", "1", "--queue-timeout", "0.2", "--admin-port", "0"});
  auto first = get_async(lb.port());
  REQUIRE(eventually([&] { return pool_status(lb)["backends"][0]["in_flight"] == 1; }));
  const auto asked = std::chrono::steady_clock::now();
  const RawResponse second = http_get(lb.port());
  const auto took = std::chrono::steady_clock::now() - asked;
  CHECK(second.status == 503);
  CHECK(json::parse(second.body)["error"] == "queue timeout");
  CHECK(took >= 200ms);
  CHECK(took < 1200ms);
  CHECK(first.get().status == 200);
  CHECK(backend.requests() == 1);
}

TEST_CASE("a queued client that hangs up leaves the queue", "[integration][queue]") {
  RecordingBackend backend("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1000ms);
  LoadBalancerProcess lb({backend.url()}, {"--max-requests", "1", "--admin-port", "0"});
  auto first = get_async(lb.port());
  REQUIRE(eventually([&] { return pool_status(lb)["backends"][0]["in_flight"] == 1; }));
  {
    ScopedFd waiting(connect_to(lb.port()));
    send_all(waiting.get(), build_request("GET", "/gone"));
    REQUIRE(eventually([&] { return pool_status(lb)["queued"] == 1; }));
  }  // hangs up
  CHECK(eventually([&] { return pool_status(lb)["queued"] == 0; }, 2s));
  CHECK(first.get().status == 200);
  CHECK(backend.received().find("/gone") == std::string::npos);
}

TEST_CASE("PUT /pools/{name} changes the algorithm, limit and hedging at run time", "[integration][queue]") {
  RecordingBackend backend;
  LoadBalancerProcess lb({backend.url()}, {"--admin-port", "0"});
  auto put = [&](const std::string& path, const std::string& body) {
    return http_request(lb.admin_port(), build_request("PUT", path, {{"Content-Type", "application/json"}}, body));
  };
  const RawResponse changed = put("/pools/default", R"({"algorithm": "least-latency", "max_requests": "auto", "hedge_after": 50})");
  REQUIRE(changed.status == 200);
  const json pool = json::parse(changed.body);
  CHECK(pool["algorithm"] == "least-latency");
  CHECK(pool["max_requests"] == "auto");
  CHECK(pool["hedge_after"] == 50);
  CHECK(pool_status(lb)["algorithm"] == "least-latency");
  CHECK(pool_status(lb)["backends"][0]["max_requests"].get<int>() >= 1);  // the learned limit's start
  CHECK(http_get(lb.port()).status == 200);

  CHECK(put("/pools/nope", R"({"algorithm": "round-robin"})").status == 404);
  CHECK(put("/pools/default", R"({"algorithm": "fastest"})").status == 400);
  CHECK(put("/pools/default", R"({"max_requests": -3})").status == 400);
  CHECK(put("/pools/default", R"({"hedge_after": "soon"})").status == 400);
  CHECK(put("/pools/default", R"({"colour": "blue"})").status == 400);
  CHECK(pool_status(lb)["algorithm"] == "least-latency");  // a refused change changes nothing

  REQUIRE(put("/pools/default", R"({"max_requests": 0, "hedge_after": "off"})").status == 200);
  CHECK(pool_status(lb)["backends"][0]["max_requests"] == 0);
  CHECK(pool_status(lb)["hedge_after"] == "off");
}

// --hedge-after: a GET whose backend stays silent is also sent to the other
// backend, and the first answer wins; a POST with a body never is.
TEST_CASE("a slow GET is hedged on another backend and answered by the faster one", "[integration][hedge]") {
  RecordingBackend slow("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow", 1500ms);
  RecordingBackend fast("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfast");
  LoadBalancerProcess lb({slow.url(), fast.url()}, {"--hedge-after", "50", "--trace-header", "--admin-port", "0"});
  int hedged = 0;
  for (int i = 0; i < 4; ++i) {  // round-robin: every other request goes to the slow one first
    const auto asked = std::chrono::steady_clock::now();
    const RawResponse response = http_get(lb.port());
    const auto took = std::chrono::steady_clock::now() - asked;
    CHECK(response.status == 200);
    CHECK(response.body == "fast");
    CHECK(took < 1000ms);
    const std::string trace = response.header("X-LB-Trace").value_or("");
    if (trace.find("hedged=" + fast.url() + " (after 50 ms, won)") != std::string::npos) ++hedged;
  }
  CHECK(hedged == 2);
  CHECK(slow.requests() == 2);
  const std::string metrics = http_request(lb.admin_port(), build_request("GET", "/metrics")).body;
  CHECK_THAT(metrics, Catch::Contains("lb_hedged_requests_total 2"));

  const RawResponse posted = http_request(lb.port(), build_request("POST", "/", {}, "body"));  // the slow one's turn
  CHECK(posted.status == 200);
  CHECK(posted.body == "slow");  // not hedged: a body is not sent twice
  CHECK_THAT(http_request(lb.admin_port(), build_request("GET", "/metrics")).body,
             Catch::Contains("lb_hedged_requests_total 2"));
}

// --retry-on-status 503: a backend that answers 503 at once (its health
// check passing) costs a GET nothing; a POST, which cannot be sent twice,
// gets the 503 as it is.
TEST_CASE("a fast-failing backend's 503 is retried elsewhere with --retry-on-status", "[integration][retry-status]") {
  RecordingBackend failing("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy");
  RecordingBackend working("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  LoadBalancerProcess lb({failing.url(), working.url()}, {"--retry-on-status", "503", "--retry-budget", "100"});
  for (int i = 0; i < 6; ++i) CHECK(http_get(lb.port()).status == 200);
  CHECK(failing.requests() >= 1);
  bool posted_503 = false;
  for (int i = 0; i < 4 && !posted_503; ++i) {
    posted_503 = http_request(lb.port(), build_request("POST", "/", {}, "body")).status == 503;
  }
  CHECK(posted_503);
}

// HTTP/2 streams queue like connections: with one place, three streams on
// one connection are answered one after another; a reset stream leaves the queue.
TEST_CASE("HTTP/2 streams wait in the pool queue and a reset one leaves it", "[integration][queue][http2]") {
  RecordingBackend backend("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 500ms);
  LoadBalancerProcess lb({backend.url()}, {"--h2c", "--max-requests", "1", "--admin-port", "0"});
  H2Client client(lb.port());
  // One at a time: three streams' workers sent together race for the place,
  // and /third could take it before /first.
  const int32_t first = client.get("/first");
  REQUIRE(client.flush());
  REQUIRE(eventually([&] { return pool_status(lb)["backends"][0]["in_flight"] == 1; }));
  const int32_t second = client.get("/second");
  REQUIRE(client.flush());
  REQUIRE(eventually([&] { return pool_status(lb)["queued"] == 1; }));
  const int32_t third = client.get("/third");
  REQUIRE(client.flush());
  REQUIRE(eventually([&] { return pool_status(lb)["queued"] == 2; }));
  client.cancel(third);
  REQUIRE(client.flush());
  CHECK(client.run_until([&] { return client.responses[first].closed && client.responses[second].closed; }));
  CHECK(client.responses[first].status == 200);
  CHECK(client.responses[second].status == 200);
  CHECK(eventually([&] { return pool_status(lb)["queued"] == 0; }));
  CHECK(backend.received().find("/third") == std::string::npos);
}

// A backend's own max_requests (-b URL,max_requests=N) limits it in a pool without a limit.
TEST_CASE("a backend's own max_requests queues what is past it", "[integration][queue]") {
  RecordingBackend backend("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 400ms);
  LoadBalancerProcess lb({backend.url() + ",max_requests=1"}, {"--admin-port", "0"});
  CHECK(pool_status(lb)["max_requests"] == 0);  // the pool has none
  CHECK(pool_status(lb)["backends"][0]["max_requests"] == 1);
  auto first = get_async(lb.port());
  REQUIRE(eventually([&] { return pool_status(lb)["backends"][0]["in_flight"] == 1; }));
  auto second = get_async(lb.port());
  REQUIRE(eventually([&] { return pool_status(lb)["queued"] == 1; }));
  CHECK(first.get().status == 200);
  CHECK(second.get().status == 200);
}
