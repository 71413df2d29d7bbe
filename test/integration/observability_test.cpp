// The access log and the X-LB-Trace decision trace through the real binary.
#include <catch2/catch.hpp>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

#include "test/support/backend_process.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"

using namespace test_support;
using namespace std::chrono_literals;

namespace {
std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}
}  // namespace

// One line per request with client, request, status, bytes, backend and timings.
TEST_CASE("access log", "[integration][observability]") {
  BackendProcess backend;
  std::string path = "/tmp/lb_access_" + std::to_string(::getpid()) + ".log";
  {
    LoadBalancerProcess lb({backend.url()}, {"--access-log", path, "--access-log-format", "json"});
    http_request(lb.port(), build_request("GET", "/echo/x?y=1", {{"User-Agent", "workshop"}}));
    http_request(lb.port(), "GET / HTTP/1.1\r\n\r\n");  // 400: no Host
    lb.process().signal(SIGTERM);
    REQUIRE(lb.process().wait_exit(10s) == 0);
  }
  // Two connections, two threads: their lines may land in either order.
  std::istringstream lines(read_file(path));
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  if (nlohmann::json::parse(first)["status"] != 200) std::swap(first, second);
  auto ok = nlohmann::json::parse(first);
  CHECK(ok["client"] == "127.0.0.1");
  CHECK(ok["request"] == "GET /echo/x?y=1 HTTP/1.1");
  CHECK(ok["status"] == 200);
  CHECK(ok["bytes"].get<int>() > 0);
  CHECK(ok["user_agent"] == "workshop");
  CHECK(ok["backend"] == backend.url());
  CHECK(ok["upstream_duration"].get<double>() <= ok["duration"].get<double>());
  auto bad = nlohmann::json::parse(second);
  CHECK(bad["status"] == 400);
  CHECK(bad["backend"] == "");
  std::remove(path.c_str());
}

// X-LB-Trace names the algorithm, each backend's standing, failures and the choice.
TEST_CASE("decision trace header", "[integration][observability]") {
  BackendProcess a, b, c;
  LoadBalancerProcess lb({a.url(), b.url(), c.url()},
                         {"--trace-header", "--sticky-cookie", "lb", "--health-interval", "60"});
  c.process().signal(SIGKILL);
  c.process().wait_exit(5s);

  RawResponse first = http_request(lb.port(), build_request("GET", "/"));
  std::string trace = first.header("X-LB-Trace").value_or("");
  CHECK_THAT(trace, Catch::StartsWith("algorithm=round-robin; sticky=miss (no cookie); candidates=" + a.url() +
                                      " ok(w=1 active=0), " + b.url() + " ok(w=1 active=0), " + c.url() +
                                      " ok(w=1 active=0)"));
  CHECK_THAT(trace, Catch::EndsWith("chosen=" + a.url()));

  http_request(lb.port(), build_request("GET", "/"));  // b
  RawResponse third = http_request(lb.port(), build_request("GET", "/"));  // c is dead: retried on a
  std::string retried = third.header("X-LB-Trace").value_or("");
  CHECK_THAT(retried, Catch::Contains("tried=" + c.url() + " (connection refused)"));
  CHECK_THAT(retried, Catch::EndsWith("chosen=" + a.url()));

  std::string cookie = first.headers_named("Set-Cookie").at(0);
  cookie = cookie.substr(0, cookie.find(';'));
  RawResponse pinned = http_request(lb.port(), build_request("GET", "/", {{"Cookie", cookie}}));
  CHECK_THAT(pinned.header("X-LB-Trace").value_or(""), Catch::Contains("sticky=hit") &&
                                                          Catch::Contains(c.url() + " unhealthy"));
}
