// Fault injection and the live request view (README "Fault injection"
// and "Admin server") through the real binaries: each fault field, the 400s,
// and how the rest of the load balancer reacts (retries, circuit breaker,
// ejection, health checks); then GET /requests and its event stream.
#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
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

RawResponse admin(int port, const std::string& method, const std::string& target, const std::string& body = "") {
  return http_request(port, build_request(method, target, {}, body));
}

json status_of(int admin_port) {
  RawResponse response = admin(admin_port, "GET", "/status");
  REQUIRE(response.status == 200);
  return json::parse(response.body);
}

json entry_for(int admin_port, const std::string& url) {
  const json status = status_of(admin_port);  // held: a range-for over a temporary's member would dangle
  for (const auto& backend : status["backends"]) {
    if (backend["url"] == url) return backend;
  }
  FAIL("no backend " << url);
  return nullptr;
}

// PUTs a fault on `url`'s backend; returns the response.
RawResponse put_fault(int admin_port, const std::string& url, const json& fault) {
  std::string id = entry_for(admin_port, url)["id"];
  return admin(admin_port, "PUT", "/backends/" + id + "/fault", fault.dump());
}

// GET /requests once it lists `count` requests: a request is recorded just
// after its answer is sent, so the client may ask before its own is in.
json recorded_requests(int admin_port, std::size_t count, const std::string& query = "") {
  json requests;
  eventually([&] {
    requests = json::parse(admin(admin_port, "GET", "/requests" + query).body)["requests"];
    return requests.size() >= count;
  }, 5s);
  return requests;
}

// The recorded request with `field` == `value` (null when there is none). Records
// are added as requests finish, so requests on different connections may be
// recorded in either order: the tests find theirs by what they sent.
json find_request(const json& requests, const std::string& field, const json& value) {
  for (const auto& request : requests) {
    if (request[field] == value) return request;
  }
  return nullptr;
}

std::string server_id(const RawResponse& response) {
  if (response.status != 200) return "";
  return json::parse(response.body).value("server_id", "");
}

}  // namespace

TEST_CASE("fault API: every field is checked, and status shows the fault", "[fault]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, {"--admin-port", "0", "--health-interval", "0.2"});
  const int port = lb.admin_port();
  CHECK(entry_for(port, a.url())["fault"].is_null());  // off at start

  struct Bad {
    std::string body;
    std::string named;
  };
  for (const Bad& bad : std::vector<Bad>{{R"({"abort_percent": 101})", "abort_percent"},
                                         {R"({"abort_percent": -1})", "abort_percent"},
                                         {R"({"abort_percent": "50"})", "abort_percent"},
                                         {R"({"abort_status": 399})", "abort_status"},
                                         {R"({"abort_status": 600})", "abort_status"},
                                         {R"({"abort_status": 503.5})", "abort_status"},
                                         {R"({"delay_ms": 60001})", "delay_ms"},
                                         {R"({"delay_percent": 100.5})", "delay_percent"},
                                         {R"({"fail_health": 1})", "fail_health"},
                                         {R"({"slow_factor": 0.9})", "slow_factor"},
                                         {R"({"slow_factor": 100.5})", "slow_factor"},
                                         {R"({"abort_percnt": 50})", "abort_percnt"},
                                         {R"([1, 2])", "JSON object"},
                                         {R"({"abort_percent": )", "not JSON"}}) {
    INFO(bad.body);
    std::string id = entry_for(port, a.url())["id"];
    RawResponse response = admin(port, "PUT", "/backends/" + id + "/fault", bad.body);
    CHECK(response.status == 400);
    CHECK(json::parse(response.body)["error"].get<std::string>().find(bad.named) != std::string::npos);
  }
  CHECK(entry_for(port, a.url())["fault"].is_null());  // a refused body changes nothing
  CHECK(admin(port, "PUT", "/backends/0123456789ab/fault", "{}").status == 404);
  CHECK(admin(port, "DELETE", "/backends/0123456789ab/fault").status == 404);

  RawResponse set = put_fault(port, a.url(), {{"abort_percent", 12.5}, {"delay_ms", 20}});
  REQUIRE(set.status == 200);
  json fault = json::parse(set.body)["fault"];
  CHECK(fault == json{{"abort_percent", 12.5}, {"abort_status", 503}, {"delay_ms", 20}, {"delay_percent", 100.0},
                      {"fail_health", false}, {"slow_factor", 1.0}});
  CHECK(entry_for(port, a.url())["fault"] == fault);
  std::string id = entry_for(port, a.url())["id"];
  CHECK(admin(port, "DELETE", "/backends/" + id + "/fault").status == 200);
  CHECK(entry_for(port, a.url())["fault"].is_null());
}

// An abort never reaches the backend: a replayable request is retried on
// another backend, a POST gets the fault's status and JSON error.
TEST_CASE("injected abort: retried when replayable, else the fault's status", "[fault]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()},
                         {"--admin-port", "0", "--health-interval", "0.2", "--trace-header", "--cb-min-requests", "1000",
                          "--eject-after", "0"});
  const int admin_port = lb.admin_port();
  REQUIRE(put_fault(admin_port, a.url(), {{"abort_percent", 100}, {"abort_status", 418}}).status == 200);

  int aborted_gets = 0;
  for (int i = 0; i < 10; ++i) {
    RawResponse response = http_get(lb.port());
    CHECK(response.status == 200);
    CHECK(server_id(response) == b.id());
    aborted_gets += response.header("X-LB-Trace").value_or("").find("tried=" + a.url() + " (injected fault (418))") !=
                    std::string::npos;
  }
  CHECK(aborted_gets >= 3);  // round-robin offers a first to some of them
  int aborted_posts = 0;
  for (int i = 0; i < 10; ++i) {
    RawResponse response = http_request(lb.port(), build_request("POST", "/echo", {}, "body"));
    if (response.status == 418) {
      ++aborted_posts;
      CHECK(json::parse(response.body)["error"] == "injected fault");
      CHECK(response.header("X-LB-Trace").value_or("").find("injected fault (418)") != std::string::npos);
    } else {
      CHECK(response.status == 200);
    }
  }
  CHECK(aborted_posts == 5);  // round-robin: every other POST goes to the faulty backend
  json a_status = entry_for(admin_port, a.url());
  CHECK(a_status["failures"] == aborted_gets + aborted_posts);
  CHECK(a_status["healthy"] == true);  // an abort is no passive mark-down: the breaker and ejection react
  CHECK(a_status["requests"] == aborted_gets + aborted_posts);

  std::string metrics = admin(admin_port, "GET", "/metrics").body;
  CHECK(metrics.find("lb_faults_injected_total{pool=\"default\",backend=\"" + a.url() + "\",fault=\"abort\"} " +
                     std::to_string(aborted_gets + aborted_posts) + "\n") != std::string::npos);
}

TEST_CASE("injected abort percent aborts about that share", "[fault]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, {"--admin-port", "0", "--retries", "0", "--cb-min-requests", "100000",
                                     "--eject-after", "0"});
  REQUIRE(put_fault(lb.admin_port(), a.url(), {{"abort_percent", 50}, {"abort_status", 500}}).status == 200);
  int aborted = 0;
  for (int i = 0; i < 200; ++i) {
    RawResponse response = http_get(lb.port());
    REQUIRE((response.status == 200 || response.status == 500));
    aborted += response.status == 500;
  }
  // Binomial(200, 0.5): the standard deviation is about 7, so 60..140 is over 5 of them.
  CHECK(aborted > 60);
  CHECK(aborted < 140);
}

// A delay holds the attempt back; it counts against --try-timeout, so a
// replayable request outwaited by it moves to another backend.
TEST_CASE("injected delay: waits, and counts against the try timeout", "[fault]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()}, {"--admin-port", "0", "--health-interval", "0.2", "--try-timeout", "0.3",
                                              "--backend-timeout", "5", "--trace-header", "--cb-min-requests", "1000",
                                              "--eject-after", "0"});
  REQUIRE(put_fault(lb.admin_port(), a.url(), {{"delay_ms", 150}}).status == 200);
  // 150 ms is inside the try timeout: a's requests are slow but answered by a.
  int slow = 0;
  for (int i = 0; i < 4; ++i) {
    auto started = std::chrono::steady_clock::now();
    RawResponse response = http_get(lb.port());
    auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(response.status == 200);
    if (server_id(response) == a.id()) {
      ++slow;
      CHECK(took >= 150ms);
      CHECK(response.header("X-LB-Trace").value_or("").find("chosen=" + a.url()) != std::string::npos);
    }
  }
  CHECK(slow == 2);

  // 1 s is beyond it: a times out after 0.3 s (it never sees the request) and
  // the GET is answered by b.
  REQUIRE(put_fault(lb.admin_port(), a.url(), {{"delay_ms", 1000}}).status == 200);
  int timed_out = 0;
  for (int i = 0; i < 4; ++i) {
    auto started = std::chrono::steady_clock::now();
    RawResponse response = http_get(lb.port());
    REQUIRE(response.status == 200);
    CHECK(server_id(response) == b.id());
    if (response.header("X-LB-Trace").value_or("").find("(timeout (injected delay))") != std::string::npos) {
      ++timed_out;
      CHECK(std::chrono::steady_clock::now() - started >= 200ms);  // the jittered try timeout, not the delay
      CHECK(std::chrono::steady_clock::now() - started < 900ms);
    }
  }
  CHECK(timed_out >= 2);
  CHECK(entry_for(lb.admin_port(), a.url())["failures"] == timed_out);

  // With delay_percent 0 nothing is delayed at all.
  REQUIRE(put_fault(lb.admin_port(), a.url(), {{"delay_ms", 1000}, {"delay_percent", 0}}).status == 200);
  for (int i = 0; i < 4; ++i) {
    auto started = std::chrono::steady_clock::now();
    CHECK(http_get(lb.port()).status == 200);
    CHECK(std::chrono::steady_clock::now() - started < 900ms);
  }
}

// slow_factor F: what the backend answers after X ms reaches the client after
// about F x X, while the backend's health checks keep passing (a gray failure);
// a hold past --try-timeout moves a GET to another backend.
TEST_CASE("injected slow_factor: answers come F times later, health still passes", "[fault]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()}, {"--admin-port", "0", "--health-interval", "0.2", "--try-timeout", "1.2",
                                              "--backend-timeout", "5", "--trace-header", "--cb-min-requests", "1000",
                                              "--eject-after", "0"});
  const int admin_port = lb.admin_port();
  REQUIRE(put_fault(admin_port, a.url(), {{"slow_factor", 4}}).status == 200);
  CHECK(entry_for(admin_port, a.url())["fault"]["slow_factor"] == 4);
  const std::string check_before = entry_for(admin_port, a.url())["last_check"]["time"];

  // a answers /slow?ms=100 after 100 ms or a little more: seen after 4 times that.
  int slowed = 0;
  for (int i = 0; i < 4; ++i) {
    auto started = std::chrono::steady_clock::now();
    RawResponse response = http_get(lb.port(), "/slow?ms=100");
    auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(response.status == 200);
    const std::string trace = response.header("X-LB-Trace").value_or("");
    INFO(trace);
    if (server_id(response) == a.id()) {
      ++slowed;
      CHECK(took >= 400ms);
      CHECK(took < 900ms);  // the (jittered) try timeout would have moved it to b
    }
  }
  CHECK(slowed == 2);  // round-robin, and no timeouts
  const std::string a_name = a.url().substr(7);
  json requests = recorded_requests(admin_port, 4);
  CHECK(find_request(requests, "backend", a.url())["trace"].get<std::string>().find(
            "round-robin chose " + a_name + " (answer held ") == 0);

  // The health checker saw nothing wrong meanwhile.
  REQUIRE(eventually([&] { return entry_for(admin_port, a.url())["last_check"]["time"] != check_before; }, 5s));
  json a_status = entry_for(admin_port, a.url());
  CHECK(a_status["healthy"] == true);
  CHECK(a_status["last_check"]["passed"] == true);
  CHECK(a_status["failures"] == 0);
  std::string metrics = admin(admin_port, "GET", "/metrics").body;
  CHECK(metrics.find("lb_faults_injected_total{pool=\"default\",backend=\"" + a.url() + "\",fault=\"slow\"} 2\n") !=
        std::string::npos);

  // 30 x 100 ms is past the try timeout: the GET is answered by b instead.
  REQUIRE(put_fault(admin_port, a.url(), {{"slow_factor", 30}}).status == 200);
  int timed_out = 0;
  for (int i = 0; i < 4; ++i) {
    RawResponse response = http_get(lb.port(), "/slow?ms=100");
    REQUIRE(response.status == 200);
    CHECK(server_id(response) == b.id());
    timed_out += response.header("X-LB-Trace").value_or("").find("(timeout (injected slow answer))") != std::string::npos;
  }
  CHECK(timed_out >= 2);
  CHECK(entry_for(admin_port, a.url())["failures"] == timed_out);
}

TEST_CASE("fail_health takes a backend out of rotation until cleared", "[fault]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()}, {"--admin-port", "0", "--health-interval", "0.2"});
  const int admin_port = lb.admin_port();
  REQUIRE(put_fault(admin_port, a.url(), {{"fail_health", true}}).status == 200);
  REQUIRE(eventually([&] { return entry_for(admin_port, a.url())["healthy"] == false; }, 5s));
  CHECK(entry_for(admin_port, a.url())["last_check"]["detail"] == "injected fault: fail_health");
  for (int i = 0; i < 6; ++i) CHECK(server_id(http_get(lb.port())) == b.id());

  std::string id = entry_for(admin_port, a.url())["id"];
  REQUIRE(admin(admin_port, "DELETE", "/backends/" + id + "/fault").status == 200);
  REQUIRE(eventually([&] { return entry_for(admin_port, a.url())["healthy"] == true; }, 5s));
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) seen.insert(server_id(http_get(lb.port())));
  CHECK(seen == std::set<std::string>{a.id(), b.id()});
}

// The interplay a workshop shows: aborts open the circuit, or eject the backend.
TEST_CASE("an aborting backend opens its circuit, and consecutive aborts eject it", "[fault]") {
  BackendProcess a, b;
  SECTION("circuit breaker") {
    LoadBalancerProcess lb({a.url(), b.url()}, {"--admin-port", "0", "--health-interval", "0.2", "--cb-min-requests",
                                                "4", "--cb-failure-ratio", "0.5", "--cb-open-seconds", "30"});
    REQUIRE(put_fault(lb.admin_port(), a.url(), {{"abort_percent", 100}}).status == 200);
    for (int i = 0; i < 12; ++i) CHECK(http_get(lb.port()).status == 200);  // retried on b
    json a_status = entry_for(lb.admin_port(), a.url());
    CHECK(a_status["circuit"] == "open");
    const auto failures = a_status["failures"].get<int>();
    for (int i = 0; i < 6; ++i) CHECK(server_id(http_get(lb.port())) == b.id());
    CHECK(entry_for(lb.admin_port(), a.url())["failures"] == failures);  // open: not even tried
  }
  SECTION("outlier ejection") {
    LoadBalancerProcess lb({a.url(), b.url()}, {"--admin-port", "0", "--health-interval", "0.2", "--eject-after", "3",
                                                "--eject-seconds", "30", "--cb-min-requests", "1000"});
    REQUIRE(put_fault(lb.admin_port(), a.url(), {{"abort_percent", 100}}).status == 200);
    for (int i = 0; i < 8; ++i) CHECK(http_get(lb.port()).status == 200);
    json a_status = entry_for(lb.admin_port(), a.url());
    CHECK(a_status["ejected"] == true);
    CHECK(a_status["failures"] == 3);
  }
}

TEST_CASE("GET /requests lists the last requests with their decision in words", "[fault][requests]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()}, {"--admin-port", "0", "--health-interval", "0.2", "--request-id-header",
                                              "X-Request-Id", "--cb-min-requests", "1000", "--eject-after", "0"});
  const int admin_port = lb.admin_port();
  REQUIRE(put_fault(admin_port, a.url(), {{"abort_percent", 100}}).status == 200);
  for (int i = 0; i < 4; ++i) REQUIRE(http_get(lb.port(), "/?n=" + std::to_string(i)).status == 200);
  // A POST cannot move on: send them until one was a's (round-robin: the first or the second).
  int posts = 0;
  while (posts < 2 && http_request(lb.port(), build_request("POST", "/echo", {{"X-Request-Id", "my-id-1"}}, "x")).status != 503) {
    ++posts;
  }
  REQUIRE(posts < 2);

  json requests = recorded_requests(admin_port, 5u + posts);
  REQUIRE(requests.size() == 5u + posts);
  const json post = find_request(requests, "status", 503);
  REQUIRE(post.is_object());
  CHECK(post["method"] == "POST");
  CHECK(post["target"] == "/echo");
  CHECK(post["request_id"] == "my-id-1");
  CHECK(post["client"] == "127.0.0.1");
  CHECK(post["pool"] == "default");
  CHECK(post["backend"] == a.url());
  CHECK(post["duration_ms"].is_number());
  CHECK(post["time"].get<std::string>().size() == 24);  // 2026-12-01T19:09:22.123Z
  const std::string a_name = a.url().substr(7), b_name = b.url().substr(7);
  CHECK(post["trace"] == "round-robin chose " + a_name + ": injected fault (503)");
  // The GETs each went to b, some after a's abort.
  int retried = 0;
  for (int i = 0; i < 4; ++i) {
    const json get = find_request(requests, "target", "/?n=" + std::to_string(i));
    REQUIRE(get.is_object());
    CHECK(get["backend"] == b.url());
    const std::string words = get["trace"];
    INFO(words);
    const bool moved = words == "round-robin chose " + a_name + ": injected fault (503), retrying; round-robin chose " + b_name;
    CHECK((moved || words == "round-robin chose " + b_name));
    retried += moved;
  }
  CHECK(retried >= 1);

  // Only the last 200 are kept.
  for (int i = 0; i < 205; ++i) http_get(lb.port());
  CHECK(recorded_requests(admin_port, 200).size() == 200);
}

TEST_CASE("GET /requests/stream sends each new request as a Server-Sent Event", "[fault][requests]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, {"--admin-port", "0"});
  int fd = connect_to(lb.admin_port());
  send_all(fd, build_request("GET", "/requests/stream"));
  // The head arrives first; then, for each request, "id: N" and "data: {...}".
  std::string received;
  auto read_until = [&](const std::string& needle) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    char buffer[4096];
    while (received.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      struct timeval tv {0, 200000};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n > 0) received.append(buffer, static_cast<size_t>(n));
      if (n == 0) break;
    }
    return received.find(needle) != std::string::npos;
  };
  REQUIRE(read_until("\r\n\r\n"));
  CHECK(received.find("Content-Type: text/event-stream") != std::string::npos);
  REQUIRE(http_get(lb.port(), "/?streamed-one").status == 200);
  REQUIRE(read_until("\"target\":\"/?streamed-one\""));
  CHECK(received.find("id: 1\ndata: {") != std::string::npos);
  REQUIRE(http_get(lb.port(), "/?streamed-two").status == 200);
  REQUIRE(read_until("\"target\":\"/?streamed-two\""));
  CHECK(received.find("id: 2\ndata: {") != std::string::npos);
  ::close(fd);
}

// Requests answered before a backend is chosen are in the view too, in words.
TEST_CASE("GET /requests shows refused and rate-limited requests", "[requests]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, {"--admin-port", "0", "--rate-limit", "0.01", "--rate-burst", "1"});
  REQUIRE(http_get(lb.port()).status == 200);
  REQUIRE(http_get(lb.port()).status == 429);
  REQUIRE(http_request(lb.port(), "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n").status == 405);
  json requests = recorded_requests(lb.admin_port(), 3);
  REQUIRE(requests.size() == 3);
  CHECK(find_request(requests, "status", 405)["trace"] == "refused before routing");
  CHECK(find_request(requests, "status", 405)["pool"] == "");
  CHECK(find_request(requests, "status", 429)["trace"] == "over the rate limit");
  CHECK(find_request(requests, "status", 200)["trace"] == "round-robin chose " + a.url().substr(7));
  // ?after=ID: only newer ones; a bad id is a 400.
  const int newest = requests[0]["id"];
  CHECK(newest == 3);
  json newer = recorded_requests(lb.admin_port(), 1, "?after=" + std::to_string(newest - 1));
  REQUIRE(newer.size() == 1);
  CHECK(newer[0] == requests[0]);
  CHECK(admin(lb.admin_port(), "GET", "/requests?after=x1").status == 400);
}
