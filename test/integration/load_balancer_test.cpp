// The load balancer end to end: real backend_server and load_balancer processes
// on ephemeral ports, checked by what a client sees on the wire.
#include <catch2/catch.hpp>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "test/support/backend_process.h"
#include "test/support/eventually.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/recording_backend.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json body_json(const RawResponse& response) { return json::parse(response.body); }

std::string served_by(int port, const std::string& target = "/") {
  RawResponse response = http_request(port, build_request("GET", target));
  REQUIRE(response.status == 200);
  return body_json(response)["server_id"];
}

}  // namespace

// Round-robin cycles over equal backends in the order given: a, b, c, a, b, c.
TEST_CASE("round-robin cycles in the order given", "[integration][lb]") {
  BackendProcess a, b, c;
  LoadBalancerProcess lb({a.url(), b.url(), c.url()});
  std::vector<std::string> seen;
  for (int i = 0; i < 6; ++i) seen.push_back(served_by(lb.port()));
  CHECK(seen == std::vector<std::string>{a.id(), b.id(), c.id(), a.id(), b.id(), c.id()});
}

// A killed backend leaves rotation with no failed request; a failing /health takes
// one out and its recovery brings it back, each change logged once.
TEST_CASE("failover and recovery", "[integration][lb]") {
  BackendProcess a, b, c;
  LoadBalancerProcess lb({a.url(), b.url(), c.url()}, {"--health-interval", "0.2", "--health-timeout", "1"});

  b.process().signal(SIGKILL);
  b.process().wait_exit(5s);
  for (int i = 0; i < 6; ++i) CHECK(served_by(lb.port()) != b.id());
  CHECK(lb.process().wait_for_line(b.url() + " is UNHEALTHY", 5s));

  RawResponse fail = http_request(c.port(), build_request("POST", "/health/fail"));
  REQUIRE(fail.status == 200);
  CHECK(lb.process().wait_for_line(c.url() + " is UNHEALTHY (status 503)", 5s));
  for (int i = 0; i < 4; ++i) CHECK(served_by(lb.port()) == a.id());

  REQUIRE(http_request(c.port(), build_request("POST", "/health/recover")).status == 200);
  CHECK(lb.process().wait_for_line(c.url() + " is HEALTHY", 5s, /*occurrence=*/2));  // the first was at start-up
  std::set<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.insert(served_by(lb.port()));
  CHECK(ids == std::set<std::string>{a.id(), c.id()});
}

// POST, PUT, PATCH, DELETE bodies and HEAD reach the backend and come back intact.
TEST_CASE("methods and bodies are forwarded", "[integration][lb]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()});
  for (std::string method : {"POST", "PUT", "PATCH", "DELETE"}) {
    RawResponse response = http_request(lb.port(), build_request(method, "/items/7?x=1", {}, "{\"n\":1}"));
    REQUIRE(response.status == 200);
    json body = body_json(response);
    CHECK(body["message"] == method + " request received by " + a.id());
    CHECK(body["your_data"] == "{\"n\":1}");
    CHECK(body["path"] == "/items/7?x=1");
  }
  RawResponse head = http_request(lb.port(), build_request("HEAD", "/"));
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(head.header("Content-Length"));
}

// Header bytes pass unaltered: percent-escapes in Set-Cookie and Location, both Set-Cookie lines.
TEST_CASE("response headers pass through byte for byte", "[integration][lb]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()});
  RawResponse response = http_request(lb.port(), build_request("GET", "/cookies"));
  REQUIRE(response.status == 200);
  CHECK(response.headers_named("Set-Cookie") == std::vector<std::string>{"sid=s%3Aabc%26d; Path=/", "theme=dark"});
  CHECK(response.header("Location") == "/next?a=%26b");
}

// The request target (path and query) reaches the backend untouched, and the
// forwarded headers are added while hop-by-hop ones are removed.
TEST_CASE("request line and headers as the backend sees them", "[integration][lb]") {
  RecordingBackend fake;
  LoadBalancerProcess lb({fake.url()});
  RawResponse response = http_request(
      lb.port(), "GET /a%2Fb/c?q=%26x&y=1+2 HTTP/1.1\r\nHost: shop.example\r\nCookie: s=%3A1\r\n"
                 "X-Forwarded-For: 10.1.1.1\r\nConnection: keep-alive, X-Hop\r\nX-Hop: secret\r\n"
                 "Keep-Alive: timeout=5\r\nX-Forwarded-Proto: gopher\r\n\r\n");
  REQUIRE(response.status == 200);
  std::string seen = fake.received();
  CHECK(seen.rfind("GET /a%2Fb/c?q=%26x&y=1+2 HTTP/1.1\r\n", 0) == 0);
  CHECK(seen.find("Host: shop.example\r\n") != std::string::npos);
  CHECK(seen.find("Cookie: s=%3A1\r\n") != std::string::npos);
  CHECK(seen.find("X-Forwarded-For: 10.1.1.1, 127.0.0.1\r\n") != std::string::npos);
  CHECK(seen.find("X-Forwarded-Proto: http\r\n") != std::string::npos);
  CHECK(seen.find("X-Forwarded-Host: shop.example\r\n") != std::string::npos);
  CHECK(seen.find("gopher") == std::string::npos);
  CHECK(seen.find("X-Hop") == std::string::npos);
  CHECK(seen.find("Keep-Alive") == std::string::npos);
}

// Content-Length plus Transfer-Encoding is refused with 400, the connection is
// closed, and not one byte reaches the backend (no request smuggling).
TEST_CASE("CL+TE smuggling attempt is rejected", "[integration][lb]") {
  RecordingBackend fake;
  LoadBalancerProcess lb({fake.url()});
  ScopedFd fd(connect_to(lb.port()));
  send_all(fd.get(),
           "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
           "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
  RawResponse response = read_response(fd.get());
  CHECK(response.status == 400);
  CHECK(response.header("Connection") == "close");
  CHECK(body_json(response).contains("error"));
  CHECK(read_until_close(fd.get()).empty());
  CHECK(fake.requests() == 0);
}

// Malformed requests get 400, over-size heads 431, over-size bodies 413; each closes.
TEST_CASE("bad requests get the right status", "[integration][lb]") {
  RecordingBackend fake;
  LoadBalancerProcess lb({fake.url()}, {"--max-body-size", "1000", "--max-header-size", "2048"});
  CHECK(http_request(lb.port(), "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab").status == 400);
  CHECK(http_request(lb.port(), "GET / HTTP/1.1\r\n\r\n").status == 400);
  CHECK(http_request(lb.port(), "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n").status == 400);
  CHECK(http_request(lb.port(), build_request("GET", "/", {{"X-Big", std::string(4000, 'a')}})).status == 431);
  CHECK(http_request(lb.port(), build_request("POST", "/", {}, std::string(2000, 'b'))).status == 413);
  RawResponse chunked_too_big = http_request(
      lb.port(), build_request("POST", "/", {{"Transfer-Encoding", "chunked"}},
                               "7d0\r\n" + std::string(2000, 'c') + "\r\n0\r\n\r\n"));
  CHECK(chunked_too_big.status == 413);
  CHECK(fake.requests() == 0);
}

// No healthy backend: 503 with a JSON error, and the process stays up.
TEST_CASE("503 when no backend is healthy", "[integration][lb]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, {"--health-interval", "0.2"});
  REQUIRE(http_request(a.port(), build_request("POST", "/health/fail")).status == 200);
  REQUIRE(lb.process().wait_for_line("is UNHEALTHY", 5s));
  RawResponse response = http_request(lb.port(), build_request("GET", "/"));
  CHECK(response.status == 503);
  CHECK(body_json(response)["error"] == "no healthy backend available");
  REQUIRE(http_request(a.port(), build_request("POST", "/health/recover")).status == 200);
  CHECK(eventually([&] { return http_request(lb.port(), build_request("GET", "/")).status == 200; }));
}

// A backend that sends garbage gives 502; one that is too slow gives 504.
TEST_CASE("502 on garbage, 504 on timeout", "[integration][lb]") {
  RecordingBackend garbage("this is not HTTP\r\n\r\n");
  LoadBalancerProcess lb_garbage({garbage.url()});
  RawResponse bad = http_request(lb_garbage.port(), build_request("GET", "/"));
  CHECK(bad.status == 502);
  CHECK(body_json(bad).contains("error"));

  BackendProcess slow;
  LoadBalancerProcess lb_slow({slow.url()}, {"--backend-timeout", "0.3"});
  RawResponse late = http_request(lb_slow.port(), build_request("GET", "/slow?ms=2000"));
  CHECK(late.status == 504);
  CHECK(http_request(lb_slow.port(), build_request("GET", "/slow?ms=10")).status == 200);
}

// A backend that refuses connections after the check is retried elsewhere (GET
// never fails) and is marked down at once (passive health).
TEST_CASE("connection refused: retry on another backend, mark down", "[integration][lb]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()}, {"--health-interval", "60"});
  a.process().signal(SIGKILL);
  a.process().wait_exit(5s);
  for (int i = 0; i < 4; ++i) CHECK(served_by(lb.port()) == b.id());
  CHECK(lb.process().wait_for_line(a.url() + " is UNHEALTHY (connection refused while proxying)", 2s));
}

// Keep-alive and pipelining: several requests on one connection, answered in order.
TEST_CASE("keep-alive and pipelined requests", "[integration][lb]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()});
  ScopedFd fd(connect_to(lb.port()));
  send_all(fd.get(), build_request("GET", "/echo/1") + build_request("GET", "/echo/2") +
                         build_request("POST", "/echo/3", {}, "x") + build_request("GET", "/echo/4"));
  std::vector<std::string> paths;
  for (int i = 0; i < 4; ++i) paths.push_back(body_json(read_response(fd.get()))["path"]);
  CHECK(paths == std::vector<std::string>{"/echo/1", "/echo/2", "/echo/3", "/echo/4"});
}

// HTTP/1.0 clients: no keep-alive unless asked, and a chunked backend response
// reaches them close-delimited.
TEST_CASE("HTTP/1.0 clients", "[integration][lb]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()});
  RawResponse plain = http_request(lb.port(), "GET / HTTP/1.0\r\n\r\n");
  CHECK(plain.status == 200);
  CHECK(plain.header("Connection") == "close");
  RawResponse kept = http_request(lb.port(), "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  CHECK(kept.header("Connection") == "keep-alive");
}

// A 100 MB response and a 100 MB upload stream through without the proxy holding them.
TEST_CASE("large bodies stream with bounded memory", "[integration][lb]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()});
  REQUIRE(http_request(lb.port(), build_request("GET", "/")).status == 200);
  long before = lb.rss_kib();

  const long size = 100L * 1024 * 1024;
  RawResponse big = http_request(lb.port(), build_request("GET", "/bytes?n=" + std::to_string(size)), 120s);
  CHECK(big.status == 200);
  CHECK(static_cast<long>(big.body.size()) == size);

  ScopedFd fd(connect_to(lb.port()));
  send_all(fd.get(), "POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n");
  std::string chunk(1024 * 1024, 'u');
  for (int i = 0; i < 100; ++i) send_all(fd.get(), chunk, 60s);
  RawResponse sunk = read_response(fd.get(), 120s);
  CHECK(sunk.status == 200);
  CHECK(body_json(sunk)["bytes"] == size);

  long growth_kib = lb.peak_rss_kib() - before;
  INFO("peak RSS growth " << growth_kib << " KiB");
  CHECK(growth_kib < 16 * 1024);
}

// SIGTERM: stop accepting, finish the request in flight, exit 0.
TEST_CASE("graceful SIGTERM", "[integration][lb]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()});
  ScopedFd idle(connect_to(lb.port()));  // an idle keep-alive client must not hold up the exit
  ScopedFd busy(connect_to(lb.port()));
  send_all(busy.get(), build_request("GET", "/slow?ms=1000"));
  REQUIRE(a.process().wait_for_line("/slow?ms=1000: waiting", 10s));  // at the backend: in flight
  lb.process().signal(SIGTERM);
  RawResponse response = read_response(busy.get(), 10s);
  CHECK(response.status == 200);
  CHECK(response.header("Connection") == "close");
  CHECK(lb.process().wait_exit(10s) == 0);
  CHECK_THROWS(connect_to(lb.port(), 1s));
}

// Slow or silent clients are cut off: a head that trickles in gets 408 after
// --header-timeout; an idle keep-alive connection is closed after --keepalive-timeout.
TEST_CASE("slowloris and idle clients are cut off", "[integration][lb]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, {"--header-timeout", "0.5", "--keepalive-timeout", "0.5"});
  ScopedFd slow(connect_to(lb.port()));
  send_all(slow.get(), "GET / HTTP/1.1\r\nHost: x\r\n");
  std::this_thread::sleep_for(300ms);
  send_all(slow.get(), "X-Trickle: 1\r\n");  // still within the head: the deadline is for the whole head
  RawResponse timed_out = read_response(slow.get(), 5s);
  CHECK(timed_out.status == 408);

  ScopedFd idle(connect_to(lb.port()));
  send_all(idle.get(), build_request("GET", "/"));
  CHECK(read_response(idle.get()).status == 200);
  auto before = std::chrono::steady_clock::now();
  CHECK(read_until_close(idle.get(), 5s).empty());
  // Closed at the keep-alive timeout: not at the earlier buffer release, not much later.
  CHECK(std::chrono::steady_clock::now() - before > 300ms);
  CHECK(std::chrono::steady_clock::now() - before < 3s);
}

// A keep-alive connection that went quiet gives its buffer pages back (after
// 100 ms); its next requests, a body and a pipelined pair, pass through intact.
TEST_CASE("a keep-alive connection serves on after a quiet spell", "[integration][lb]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()});
  ScopedFd client(connect_to(lb.port()));
  send_all(client.get(), build_request("GET", "/"));
  REQUIRE(read_response(client.get()).status == 200);
  std::this_thread::sleep_for(300ms);

  const std::string body(5000, 'q');
  send_all(client.get(), build_request("POST", "/", {{"Content-Type", "text/plain"}}, body));
  RawResponse posted = read_response(client.get());
  REQUIRE(posted.status == 200);
  CHECK(body_json(posted)["your_data"] == body);
  std::this_thread::sleep_for(300ms);

  send_all(client.get(), build_request("GET", "/echo/one") + build_request("GET", "/echo/two"));
  CHECK(body_json(read_response(client.get()))["path"] == "/echo/one");
  CHECK(body_json(read_response(client.get()))["path"] == "/echo/two");
}

// Connection threads run under SCHED_BATCH (see common/thread_per_connection_queue.h).
TEST_CASE("connection threads are batch-scheduled", "[integration][lb]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()});
  ScopedFd client(connect_to(lb.port()));
  send_all(client.get(), build_request("GET", "/"));
  REQUIRE(read_response(client.get()).status == 200);  // its thread now waits for the next request
  // Field 41 of /proc/PID/task/TID/stat is the policy (0 = SCHED_OTHER, 3 = SCHED_BATCH).
  const std::string pid = std::to_string(lb.process().pid());
  auto policy_of = [](const std::filesystem::path& task) {
    std::ifstream stat(task / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "pid (comm) "
    std::string field;
    for (int i = 3; i <= 41 && fields >> field; ++i) {
    }
    return field;
  };
  int batch_threads = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + pid + "/task")) {
    if (policy_of(task.path()) == "3") ++batch_threads;
  }
  CHECK(batch_threads >= 1);                                 // this client's connection thread
  CHECK(policy_of("/proc/" + pid + "/task/" + pid) == "0");  // the main thread stays normal
}

// Beyond --max-connections, new connections wait in the backlog (not dropped)
// and are served as soon as a slot frees up.
TEST_CASE("connections beyond the cap wait and are then served", "[integration][lb]") {
  BackendProcess a;
  LoadBalancerProcess lb({a.url()}, {"--max-connections", "1"});
  auto first = std::make_unique<ScopedFd>(connect_to(lb.port()));
  send_all(first->get(), build_request("GET", "/"));
  REQUIRE(read_response(first->get()).status == 200);  // holds the only slot, kept alive

  ScopedFd second(connect_to(lb.port()));  // accepted by the kernel, waiting in the backlog
  send_all(second.get(), build_request("GET", "/"));
  CHECK_THROWS_AS(read_response(second.get(), 500ms), RawHttpError);  // not served yet
  first.reset();  // the slot frees up
  CHECK(read_response(second.get(), 5s).status == 200);
}
