// README "Access control", forward auth, through the real binaries and curl,
// with a real auth service started by the test (a RecordingBackend with a
// scripted answer): a 2xx lets the request on with the copied fields, a 401
// and a 302 come back as they are, and an auth service that is down is a 503
// (fail closed), logged once; HTTP/2 too.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test/support/free_port.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/recording_backend.h"
#include "test/support/shell.h"

using namespace test_support;
using nlohmann::json;

namespace {

struct Config {
  std::string path = "/tmp/lb_forward_auth_test_" + std::to_string(::getpid()) + ".json";
  Config(const std::string& backend, const std::string& auth_url) {
    std::ofstream(path) << json{{"pools", {{"web", {{"backends", {backend}}}}}},
                                {"routes", json::array({{{"path", "/app"}, {"pool", "web"},
                                                         {"forward-auth", {{"url", auth_url},
                                                                           {"copy-headers", {"X-User", "X-Groups"}},
                                                                           {"timeout", 2}}}},
                                                        {{"pool", "web"}}})}}
                               .dump();
  }
  ~Config() { std::remove(path.c_str()); }
};

std::string curl(int port, const std::string& path, const std::string& extra = "") {
  return shell("curl -sS -i --max-time 10 " + extra + " 'http://127.0.0.1:" + std::to_string(port) + path + "'").second;
}

}  // namespace

// A 2xx: the request goes on with the auth service's X-User, never the client's.
TEST_CASE("forward auth: a 2xx lets the request through with the copied headers", "[integration][forward-auth]") {
  RecordingBackend auth("HTTP/1.1 200 OK\r\nX-User: alice\r\nX-Groups: staff\r\nX-Other: no\r\nContent-Length: 0\r\n\r\n");
  RecordingBackend backend;
  Config config(backend.url(), auth.url() + "/verify?app=1");
  LoadBalancerProcess lb({}, {"--config", config.path, "--trace-header"});
  const std::string answer =
      curl(lb.port(), "/app/page?q=1", "-H 'X-User: mallory' -H 'Cookie: session=abc' -H 'Host: shop.example'");
  CHECK(answer.find("HTTP/1.1 200") == 0);
  CHECK(answer.find("edge=forward auth 200") != std::string::npos);
  const std::string asked = auth.received();
  CHECK(asked.find("GET /verify?app=1 HTTP/1.1\r\n") == 0);
  CHECK(asked.find("Cookie: session=abc\r\n") != std::string::npos);
  CHECK(asked.find("X-Forwarded-Method: GET\r\n") != std::string::npos);
  CHECK(asked.find("X-Forwarded-Uri: /app/page?q=1\r\n") != std::string::npos);
  CHECK(asked.find("X-Forwarded-Host: shop.example\r\n") != std::string::npos);
  CHECK(asked.find("X-Forwarded-For: 127.0.0.1\r\n") != std::string::npos);
  const std::string forwarded = backend.received();
  CHECK(forwarded.find("X-User: alice\r\n") != std::string::npos);
  CHECK(forwarded.find("X-Groups: staff\r\n") != std::string::npos);
  CHECK(forwarded.find("mallory") == std::string::npos);
  CHECK(forwarded.find("X-Other") == std::string::npos);
  // The open route asks nobody; the pooled connection is reused for the next check.
  CHECK(curl(lb.port(), "/").find("HTTP/1.1 200") == 0);
  CHECK(curl(lb.port(), "/app").find("HTTP/1.1 200") == 0);
  CHECK(auth.requests() == 2);
}

// Any other answer goes back as it is: status, fields, body; nothing forwarded.
TEST_CASE("forward auth: a 401 and a 302 are passed back as they are", "[integration][forward-auth]") {
  RecordingBackend backend;
  {
    RecordingBackend auth("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"sso\"\r\n"
                          "Content-Type: text/plain\r\nContent-Length: 12\r\n\r\nlog in first");
    Config config(backend.url(), auth.url() + "/verify");
    LoadBalancerProcess lb({}, {"--config", config.path, "--h2c"});
    const std::string answer = curl(lb.port(), "/app");
    CHECK(answer.find("HTTP/1.1 401") == 0);
    CHECK(answer.find("WWW-Authenticate: Bearer realm=\"sso\"") != std::string::npos);
    CHECK(answer.substr(answer.size() - 12) == "log in first");
    const std::string h2 = curl(lb.port(), "/app", "--http2-prior-knowledge");
    CHECK(h2.find("HTTP/2 401") == 0);
    CHECK(h2.substr(h2.size() - 12) == "log in first");
  }
  RecordingBackend login("HTTP/1.1 302 Found\r\nLocation: https://sso.example/login?next=%2Fapp\r\n"
                         "Set-Cookie: state=xyz\r\nContent-Length: 0\r\n\r\n");
  Config config(backend.url(), login.url() + "/verify");
  LoadBalancerProcess lb({}, {"--config", config.path});
  const std::string answer = curl(lb.port(), "/app");
  CHECK(answer.find("HTTP/1.1 302") == 0);
  CHECK(answer.find("Location: https://sso.example/login?next=%2Fapp") != std::string::npos);
  CHECK(answer.find("Set-Cookie: state=xyz") != std::string::npos);
  CHECK(backend.requests() == 0);
}

// Nobody listening: 503, fail closed, one log line for the outage; HTTP/2 alike.
TEST_CASE("forward auth: an unreachable auth service is a 503, logged once", "[integration][forward-auth]") {
  RecordingBackend backend;
  Config config(backend.url(), "http://127.0.0.1:" + std::to_string(free_port()) + "/verify");
  LoadBalancerProcess lb({}, {"--config", config.path, "--admin-port", "0", "--h2c"});
  for (int i = 0; i < 3; ++i) {
    const std::string answer = curl(lb.port(), "/app");
    CHECK(answer.find("HTTP/1.1 503") == 0);
    CHECK(answer.find(R"({"error":"authentication service unavailable"})") != std::string::npos);
  }
  CHECK(curl(lb.port(), "/app", "--http2-prior-knowledge").find("HTTP/2 503") == 0);
  CHECK(lb.process().count_lines("[Forward Auth]") == 1);
  CHECK(backend.requests() == 0);
  const std::string metrics = http_request(lb.admin_port(), build_request("GET", "/metrics")).body;
  CHECK(metrics.find("lb_edge_refused_total{reason=\"forward_auth_unavailable\"} 4") != std::string::npos);
}

// An auth service that does not answer within "timeout" is the same 503: fail closed.
TEST_CASE("forward auth: an auth service that times out is a 503", "[integration][forward-auth]") {
  RecordingBackend slow_auth("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", std::chrono::milliseconds(4000));
  RecordingBackend backend;
  Config config(backend.url(), slow_auth.url() + "/verify");  // "timeout": 2
  LoadBalancerProcess lb({}, {"--config", config.path, "--trace-header"});
  const std::string answer = curl(lb.port(), "/app");  // a 200 had it waited the 4 s
  CHECK(answer.find("HTTP/1.1 503") == 0);
  CHECK(answer.find("refused=forward auth unavailable (timeout)") != std::string::npos);
  CHECK(lb.process().wait_for_line("[Forward Auth] " + slow_auth.url() + "/verify gave no answer (timeout)",
                                   std::chrono::seconds(1)));
  CHECK(backend.requests() == 0);
}
