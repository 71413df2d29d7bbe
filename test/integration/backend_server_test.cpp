// backend_server's endpoints, seen by a client over real HTTP.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "test/support/backend_process.h"
#include "test/support/raw_http.h"

using nlohmann::json;
using test_support::BackendProcess;
using test_support::build_request;
using test_support::http_request;
using test_support::RawResponse;

namespace {

json json_body(const RawResponse& res) { return json::parse(res.body); }

RawResponse get(int port, const std::string& target, const test_support::HeaderList& headers = {}) {
  return http_request(port, build_request("GET", target, headers));
}

// Peak resident memory of a process, in kB (VmHWM in /proc/PID/status).
long peak_rss_kb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

// GET /health answers 200 {"status":"ok","server_id":ID}.
TEST_CASE("backend_server: GET /health reports ok with its id", "[backend]") {
  BackendProcess backend;
  RawResponse res = get(backend.port(), "/health");
  CHECK(res.status == 200);
  CHECK(res.header("Content-Type") == "application/json");
  CHECK(json_body(res) ==
        json({{"status", "ok"}, {"server_id", "Server_on_Port_" + std::to_string(backend.port())}}));
}

// GET / says hello and echoes the target as received (query undecoded) and the headers.
TEST_CASE("backend_server: GET / echoes path with query and headers", "[backend]") {
  BackendProcess backend;
  RawResponse res = get(backend.port(), "/?a=%26b&c=1", {{"X-Test", "yes"}});
  REQUIRE(res.status == 200);
  json body = json_body(res);
  std::string id = "Server_on_Port_" + std::to_string(backend.port());
  CHECK(body["message"] == "Hello from " + id + "!");
  CHECK(body["server_id"] == id);
  CHECK(body["path"] == "/?a=%26b&c=1");
  CHECK(body["headers"]["X-Test"] == "yes");
  CHECK(body["headers"]["Host"] == "127.0.0.1");
  // httplib's own socket pseudo-headers are not the client's.
  CHECK_FALSE(body["headers"].contains("REMOTE_ADDR"));
  CHECK_FALSE(body["headers"].contains("LOCAL_PORT"));
}

// --id replaces the default id everywhere, including the listening line.
TEST_CASE("backend_server: --id names the server", "[backend]") {
  BackendProcess backend({"--id", "alpha"});
  CHECK(backend.id() == "alpha");
  CHECK(json_body(get(backend.port(), "/"))["message"] == "Hello from alpha!");
  CHECK(json_body(get(backend.port(), "/health"))["server_id"] == "alpha");
}

// POST to any path echoes the body, the path with query and the headers.
TEST_CASE("backend_server: POST echoes body and path", "[backend]") {
  BackendProcess backend;
  RawResponse res = http_request(
      backend.port(),
      build_request("POST", "/api/items?x=%2F", {{"Content-Type", "text/plain"}}, "hello body"));
  REQUIRE(res.status == 200);
  json body = json_body(res);
  CHECK(body["message"] == "POST request received by " + backend.id());
  CHECK(body["server_id"] == backend.id());
  CHECK(body["your_data"] == "hello body");
  CHECK(body["path"] == "/api/items?x=%2F");
  CHECK(body["headers"]["Content-Type"] == "text/plain");
}

// PUT, PATCH and DELETE echo like POST with their own method in the message.
TEST_CASE("backend_server: PUT, PATCH and DELETE are echoed", "[backend]") {
  BackendProcess backend;
  for (std::string method : {"PUT", "PATCH", "DELETE"}) {
    INFO(method);
    RawResponse res = http_request(backend.port(), build_request(method, "/thing/7", {}, "data"));
    REQUIRE(res.status == 200);
    json body = json_body(res);
    CHECK(body["message"] == method + " request received by " + backend.id());
    CHECK(body["your_data"] == "data");
    CHECK(body["path"] == "/thing/7");
  }
}

// A POST without Content-Length has an empty body and is answered at once,
// not after httplib's 5 s read timeout.
TEST_CASE("backend_server: POST without Content-Length is answered at once", "[backend]") {
  BackendProcess backend;
  auto start = std::chrono::steady_clock::now();
  RawResponse res = http_request(backend.port(), "POST /x HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  REQUIRE(res.status == 200);
  CHECK(json_body(res)["your_data"] == "");
}

// Unknown GET paths and other methods get 404 with a JSON error body.
TEST_CASE("backend_server: anything else is 404 with a JSON error", "[backend]") {
  BackendProcess backend;
  RawResponse res = get(backend.port(), "/no/such/page");
  CHECK(res.status == 404);
  CHECK(json_body(res)["error"] == "not found");
  CHECK(http_request(backend.port(), build_request("OPTIONS", "/")).status == 404);
  CHECK(get(backend.port(), "/health/fail").status == 404);
}

// HEAD gets GET's headers without a body.
TEST_CASE("backend_server: HEAD / has headers and no body", "[backend]") {
  BackendProcess backend;
  RawResponse res = http_request(backend.port(), build_request("HEAD", "/"));
  CHECK(res.status == 200);
  CHECK(res.body.empty());
}

// /cookies sends two Set-Cookie headers and a Location exactly as written,
// percent-escapes intact, so proxies can be checked byte for byte.
TEST_CASE("backend_server: /cookies headers are byte-exact on the wire", "[backend]") {
  BackendProcess backend;
  RawResponse res = get(backend.port(), "/cookies");
  REQUIRE(res.status == 200);
  CHECK(res.headers_named("Set-Cookie") ==
        std::vector<std::string>{"sid=s%3Aabc%26d; Path=/", "theme=dark"});
  CHECK(res.headers_named("Location") == std::vector<std::string>{"/next?a=%26b"});
  CHECK(res.head.find("\r\nSet-Cookie: sid=s%3Aabc%26d; Path=/\r\n") != std::string::npos);
  CHECK(res.head.find("\r\nSet-Cookie: theme=dark\r\n") != std::string::npos);
  CHECK(res.head.find("\r\nLocation: /next?a=%26b\r\n") != std::string::npos);
}

// /status/{code} answers with that status and a JSON body (none for 204).
TEST_CASE("backend_server: /status/{code} returns that code", "[backend]") {
  BackendProcess backend;
  for (int code : {200, 201, 302, 404, 418, 500, 502, 503}) {
    INFO(code);
    RawResponse res = get(backend.port(), "/status/" + std::to_string(code));
    CHECK(res.status == code);
    CHECK(json_body(res) == json({{"status", code}, {"server_id", backend.id()}}));
  }
  RawResponse no_content = get(backend.port(), "/status/204");
  CHECK(no_content.status == 204);
  CHECK(no_content.body.empty());
  CHECK(get(backend.port(), "/status/99").status == 400);
  CHECK(get(backend.port(), "/status/600").status == 400);
}

// POST /health/fail makes /health answer 503 until POST /health/recover; the process keeps serving.
TEST_CASE("backend_server: /health can be failed and recovered", "[backend]") {
  BackendProcess backend;
  RawResponse failed = http_request(backend.port(), build_request("POST", "/health/fail"));
  CHECK(failed.status == 200);
  RawResponse sick = get(backend.port(), "/health");
  CHECK(sick.status == 503);
  CHECK(json_body(sick) == json({{"status", "failing"}, {"server_id", backend.id()}}));
  CHECK(get(backend.port(), "/").status == 200);  // only /health fails

  CHECK(http_request(backend.port(), build_request("POST", "/health/recover")).status == 200);
  RawResponse well = get(backend.port(), "/health");
  CHECK(well.status == 200);
  CHECK(json_body(well)["status"] == "ok");
}

// /bytes?n=N streams exactly N bytes of the a..z pattern with Content-Length N.
TEST_CASE("backend_server: /bytes streams 10 MB with Content-Length", "[backend]") {
  BackendProcess backend;
  const std::size_t n = 10 * 1000 * 1000;
  RawResponse res = get(backend.port(), "/bytes?n=" + std::to_string(n));
  REQUIRE(res.status == 200);
  CHECK(res.header("Content-Length") == std::to_string(n));
  REQUIRE(res.body.size() == n);
  bool pattern_ok = true;
  for (std::size_t i = 0; i < n && pattern_ok; ++i) pattern_ok = res.body[i] == static_cast<char>('a' + i % 26);
  CHECK(pattern_ok);
  CHECK(get(backend.port(), "/bytes?n=0").body.empty());
  CHECK(get(backend.port(), "/bytes?n=-1").status == 400);
  CHECK(get(backend.port(), "/bytes").status == 400);
}

// /bytes does not hold the body in memory: 300 MB out, peak RSS grows far less.
TEST_CASE("backend_server: /bytes streams without buffering the body", "[backend]") {
  BackendProcess backend;
  long before = peak_rss_kb(backend.process().pid());
  REQUIRE(before > 0);
  httplib::Client client("127.0.0.1", backend.port());
  client.set_connection_timeout(5);
  client.set_read_timeout(60);
  const std::size_t n = 300u * 1000 * 1000;
  std::size_t received = 0;
  auto res = client.Get("/bytes?n=" + std::to_string(n), [&](const char*, std::size_t length) {
    received += length;
    return true;
  });
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(received == n);
  long growth_kb = peak_rss_kb(backend.process().pid()) - before;
  CHECK(growth_kb < 64 * 1024);
}

// /slow?ms=N waits about N ms, then answers like GET /.
TEST_CASE("backend_server: /slow waits before answering", "[backend]") {
  BackendProcess backend;
  auto start = std::chrono::steady_clock::now();
  RawResponse res = get(backend.port(), "/slow?ms=300");
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(res.status == 200);
  CHECK(elapsed >= std::chrono::milliseconds(300));
  CHECK(json_body(res)["message"] == "Hello from " + backend.id() + "!");
  CHECK(json_body(res)["path"] == "/slow?ms=300");
  CHECK(get(backend.port(), "/slow?ms=abc").status == 400);

  // only=ID: another server's id answers at once, its own waits.
  CHECK(json_body(get(backend.port(), "/slow?ms=60000&only=someone_else"))["slept_ms"] == 0);
  start = std::chrono::steady_clock::now();
  CHECK(json_body(get(backend.port(), "/slow?ms=200&only=" + backend.id()))["slept_ms"] == 200);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(200));
}

// Each connection has its own thread: 40 concurrent slow requests overlap.
TEST_CASE("backend_server: slow requests are served concurrently", "[backend]") {
  BackendProcess backend;
  const int clients = 40;
  std::vector<std::thread> threads;
  std::vector<int> statuses(clients, 0);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      try {
        statuses[i] = get(backend.port(), "/slow?ms=500").status;
      } catch (const std::exception&) {
        statuses[i] = -1;
      }
    });
  }
  for (auto& t : threads) t.join();
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(statuses == std::vector<int>(clients, 200));
  CHECK(elapsed < std::chrono::seconds(4));  // serially it would take 20 s
}

// POST /sink counts and checksums a body of any size without echoing it.
TEST_CASE("backend_server: /sink counts and checksums the body", "[backend]") {
  BackendProcess backend;
  std::string body(5 * 1000 * 1000, '\0');
  std::uint64_t hash = 14695981039346656037ull;
  for (std::size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>((i * 7919) & 0xff);
    hash = (hash ^ static_cast<unsigned char>(body[i])) * 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  RawResponse res = http_request(backend.port(), build_request("POST", "/sink", {}, body));
  REQUIRE(res.status == 200);
  CHECK(json_body(res) ==
        json({{"server_id", backend.id()}, {"bytes", body.size()}, {"fnv1a64", hex}}));
}

// GET /echo/... answers like GET / on any path, keeping the target as sent.
TEST_CASE("backend_server: /echo/ keeps the full target", "[backend]") {
  BackendProcess backend;
  RawResponse res = get(backend.port(), "/echo/a%2Fb/c?q=%26x&y");
  REQUIRE(res.status == 200);
  CHECK(json_body(res)["path"] == "/echo/a%2Fb/c?q=%26x&y");
}

// One keep-alive connection serves many requests in a row.
TEST_CASE("backend_server: keep-alive connections serve many requests", "[backend]") {
  BackendProcess backend;
  test_support::ScopedFd fd(test_support::connect_to(backend.port()));
  for (int i = 0; i < 20; ++i) {
    test_support::send_all(fd.get(), build_request("GET", "/health"));
    CHECK(test_support::read_response(fd.get()).status == 200);
    test_support::send_all(fd.get(), build_request("POST", "/p", {}, "x"));
    CHECK(json_body(test_support::read_response(fd.get()))["your_data"] == "x");
  }
  test_support::send_all(fd.get(), build_request("GET", "/status/201"));
  RawResponse last = test_support::read_response(fd.get());
  CHECK(last.status == 201);
  CHECK(last.header("Keep-Alive").value_or("").find("max=1000") != std::string::npos);
}

// A request line near httplib's 8 KB limit matched by a catch-all route
// does not overflow the connection thread's stack.
TEST_CASE("backend_server: very long paths do not crash it", "[backend]") {
  BackendProcess backend;
  std::string path = "/" + std::string(8000, 'a');
  RawResponse res = http_request(backend.port(), build_request("POST", path, {}, "x"));
  CHECK(res.status == 200);
  CHECK(get(backend.port(), "/health").status == 200);
}
