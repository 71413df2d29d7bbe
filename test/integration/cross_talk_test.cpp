// No client can touch another client's traffic through the load balancer:
// whatever one client sends (bodies a backend ignores, smuggling attempts,
// malformed or mutated requests), every other client gets the answer to its
// own request and nothing else. Black-box: only the binaries' behaviour on the
// wire is checked, against backend_server (cpp-httplib) and an echo backend
// that answers each request with its own head.
//
// Tags: [crosstalk-repro] the minimal reproduction, [crosstalk] the
// concurrent test with mutated junk; both also [trust].
// CROSSTALK_SEED=<n> in the environment replaces the junk's fixed seed.
#include <catch2/catch.hpp>

#include <poll.h>
#include <strings.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test/support/backend_process.h"
#include "test/support/echo_backend.h"
#include "test/support/junk_requests.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

enum class Kind { kBackendServer, kEcho };

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string describe(const RawResponse& response) {
  return "status " + std::to_string(response.status) + ", body \"" + escaped(response.body) + "\"";
}

// The request an honest client sent, as its answer must reflect it.
struct Sent {
  std::string method;
  std::string target;
  std::string client_id;  // "" when no X-Client-Id was sent
  std::string body;
};

// The value of header `name` in a JSON object of headers, whatever its case.
std::optional<std::string> json_header(const json& headers, const std::string& name) {
  if (!headers.is_object()) return std::nullopt;
  for (const auto& item : headers.items()) {
    if (iequals(item.key(), name) && item.value().is_string()) return item.value().get<std::string>();
  }
  return std::nullopt;
}

// Every value of header `name` in an echoed request head.
std::vector<std::string> echoed_header(const std::string& head, const std::string& name) {
  std::vector<std::string> values;
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    std::size_t start = pos + 2;
    std::size_t end = head.find("\r\n", start);
    if (end == std::string::npos) break;
    std::string line = head.substr(start, end - start);
    std::size_t colon = line.find(':');
    if (colon != std::string::npos && iequals(line.substr(0, colon), name)) {
      std::size_t value = line.find_first_not_of(" \t", colon + 1);
      values.push_back(value == std::string::npos ? "" : line.substr(value, line.find_last_not_of(" \t") + 1 - value));
    }
    pos = end;
  }
  return values;
}

// "" when `response` is the backend's answer to exactly `sent`, else what is wrong.
std::string check_answer(Kind kind, const RawResponse& response, const Sent& sent) {
  if (response.status != 200) return "expected 200, got " + describe(response);
  if (kind == Kind::kEcho) {
    const std::string request_line = sent.method + " " + sent.target + " HTTP/1.1\r\n";
    if (response.body.compare(0, request_line.size(), request_line) != 0) {
      return "echoed head is not of \"" + escaped(request_line) + "\": " + describe(response);
    }
    if (response.body.size() < 4 || response.body.compare(response.body.size() - 4, 4, "\r\n\r\n") != 0) {
      return "echoed head does not end in a blank line: " + describe(response);
    }
    if (!sent.client_id.empty() &&
        echoed_header(response.body, "X-Client-Id") != std::vector<std::string>{sent.client_id}) {
      return "echoed X-Client-Id is not exactly " + sent.client_id + ": " + describe(response);
    }
    return "";
  }
  json body;
  try {
    body = json::parse(response.body);
  } catch (const std::exception&) {
    return "body is not JSON: " + describe(response);
  }
  if (!body.is_object() || body.value("path", std::string()) != sent.target) {
    return "JSON path is not " + sent.target + ": " + describe(response);
  }
  const std::string expected_message = sent.method == "GET" ? "Hello from " : sent.method + " request received by ";
  if (body.value("message", std::string()).rfind(expected_message, 0) != 0) {
    return "JSON message does not start with \"" + expected_message + "\": " + describe(response);
  }
  if (!sent.client_id.empty() && json_header(body["headers"], "X-Client-Id") != sent.client_id) {
    return "JSON headers.X-Client-Id is not " + sent.client_id + ": " + describe(response);
  }
  if (sent.method == "POST" && body.value("your_data", std::string()) != sent.body) {
    return "JSON your_data is not \"" + sent.body + "\": " + describe(response);
  }
  return "";
}

// ---------------------------------------------------------------------------
// The reproduction: one client's ignored body must not reach the next client.

struct SmuggleCase {
  std::string name;
  std::string bytes;
  bool head = false;  // its answer has no body
};

std::vector<SmuggleCase> smuggle_cases() {
  const std::string other = "GET /other HTTP/1.1\r\nHost: a\r\n\r\n";
  auto with_body = [](const std::string& method, const std::string& target, const std::string& body) {
    return method + " " + target + " HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  };
  return {
      {"OPTIONS * with the start of a POST as its body",
       "OPTIONS * HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nPOST /p HT"},
      {"OPTIONS with a GET /other up to a header name as its body (B's request line becomes its value)",
       with_body("OPTIONS", "/", "GET /other HTTP/1.1\r\nX-Ignore: ")},
      {"OPTIONS with a whole GET /other as its body", with_body("OPTIONS", "/", other)},
      {"GET with a whole GET /other as its body", with_body("GET", "/", other)},
      {"DELETE with a whole GET /other as its body", with_body("DELETE", "/d", other)},
      {"HEAD with a whole GET /other as its body", with_body("HEAD", "/", other), true},
      {"PURGE (unknown to the backends) with a whole GET /other as its body", with_body("PURGE", "/", other)},
      {"FOO (unknown to everyone) with a whole GET /other as its body", with_body("FOO", "/", other)},
  };
}

// Client A sends `smuggle` on its own connection and reads its answer (any),
// then, `pause` later, client B asks for GET / on a new connection. Returns "" when B gets
// the answer to its own request, else what it got.
std::string smuggle_round(Kind kind, int lb_port, const SmuggleCase& smuggle, std::chrono::milliseconds pause,
                          std::string* a_saw) {
  try {
    ScopedFd a(connect_to(lb_port));
    send_all(a.get(), smuggle.bytes);
    *a_saw = describe(read_response(a.get(), 3s, smuggle.head));
  } catch (const RawHttpError& e) {
    *a_saw = std::string("no answer: ") + e.what();
  }  // A hangs up
  // Time for the load balancer to put its backend connection back in a pool,
  // if it does (or none: B races it); B gets its own answer whatever the timing.
  std::this_thread::sleep_for(pause);
  ScopedFd b(connect_to(lb_port));
  send_all(b.get(), "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  try {
    return check_answer(kind, read_response(b.get(), 5s), {"GET", "/", "", ""});
  } catch (const RawHttpError& e) {
    return std::string("B got no answer: ") + e.what();
  }
}

void run_reproduction(Kind kind, const std::string& backend_url) {
  for (const SmuggleCase& smuggle : smuggle_cases()) {
    LoadBalancerProcess lb({backend_url});  // a fresh one per case: no connection left over from the last
    int round = 0;
    for (auto pause : {50ms, 0ms, 5ms, 50ms}) {
      ++round;
      std::string a_saw;
      std::string b_problem = smuggle_round(kind, lb.port(), smuggle, pause, &a_saw);
      INFO("client A sent " << smuggle.name << ": \"" << escaped(smuggle.bytes) << "\"");
      INFO("round " << round << ", B " << pause.count() << " ms after A; A got " << a_saw);
      CHECK(b_problem == "");
    }
    CHECK(lb.process().running());
  }
}

// ---------------------------------------------------------------------------
// The cross-talk test: honest clients in parallel with mutated junk.

constexpr int kHonestClients = 8;
constexpr int kRequestsPerClient = 150;
constexpr int kJunkClients = 3;
constexpr int kMaxJunkPerClient = 2000;
constexpr auto kTestBudget = 25s;     // honest clients stop here whatever happened
constexpr auto kAnswerTimeout = 5s;   // for each honest answer (a correct load balancer needs milliseconds)
constexpr int kMaxHonestErrors = 3;   // an honest client that got no answer this often stops
// Honest requests are spread over at least this long (request n waits until
// n/kRequestsPerClient of it has passed), so plenty of junk flows meanwhile.
constexpr std::chrono::milliseconds kHonestSpread{2000};
constexpr unsigned kDefaultSeed = 20240611;

unsigned junk_seed() {
  const char* env = std::getenv("CROSSTALK_SEED");
  return env && *env ? static_cast<unsigned>(std::strtoul(env, nullptr, 10)) : kDefaultSeed;
}

// Reads and drops whatever comes back, until a close, 30 ms of quiet or 150 ms in all.
void drain(int fd) {
  auto deadline = Clock::now() + 150ms;
  char buf[4096];
  while (Clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 30) <= 0) return;
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;
  }
}

struct JunkReport {
  int sent = 0;
};

void junk_client(int lb_port, unsigned seed, const std::atomic<bool>& stop, JunkReport* report) {
  std::mt19937 rng(seed);
  const std::vector<std::string> seeds = junk_seeds();
  const auto deadline = Clock::now() + kTestBudget + 5s;
  for (int i = 0; i < kMaxJunkPerClient && !stop && Clock::now() < deadline; ++i) {
    std::string bytes = seeds[rng() % seeds.size()];
    if (rng() % 4 != 0) mutate(bytes, rng);  // a quarter go out as seeded
    try {
      ScopedFd fd(connect_to(lb_port, 2s));
      // In one to four pieces, a few milliseconds apart.
      const int pieces = 1 + static_cast<int>(rng() % 4);
      std::size_t pos = 0;
      for (int p = 1; p <= pieces && pos < bytes.size(); ++p) {
        std::size_t length = p == pieces ? bytes.size() - pos : rng() % (bytes.size() - pos + 1);
        send_all(fd.get(), bytes.substr(pos, length), 1s);
        pos += length;
        if (p < pieces) std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 4));
      }
      ++report->sent;
      drain(fd.get());
    } catch (const std::exception&) {
      // Refused, reset or closed early: all fine for junk.
    }
  }
}

struct HonestReport {
  int answered = 0;                   // requests that got an answer (checked)
  int failures = 0;                   // answers (or errors) that were wrong
  std::vector<std::string> examples;  // the first few failures
};

void note_failure(HonestReport* report, const std::string& what) {
  ++report->failures;
  if (report->examples.size() < 5) report->examples.push_back(what);
}

// kRequestsPerClient requests on keep-alive connections (a new one every 5 to
// 40 requests): GETs, POSTs with Content-Length and chunked POSTs, each naming
// this client's id and sequence number; each answer must match its request.
void honest_client(Kind kind, int lb_port, const std::string& id, unsigned seed, HonestReport* report) {
  std::mt19937 rng(seed);
  const auto deadline = Clock::now() + kTestBudget;
  std::unique_ptr<ScopedFd> connection;
  int left_on_connection = 0;
  int errors = 0;
  int n = 0;
  const auto started = Clock::now();
  for (; n < kRequestsPerClient && Clock::now() < deadline; ++n) {
    std::this_thread::sleep_until(started + kHonestSpread * n / kRequestsPerClient);
    Sent sent;
    sent.client_id = id;
    sent.target = "/echo/id/" + id + "?n=" + std::to_string(n);
    std::string request;
    const unsigned shape = rng() % 6;
    if (shape < 3) {
      sent.method = "GET";
      request = build_request("GET", sent.target, {{"X-Client-Id", id}});
    } else {
      sent.method = "POST";
      sent.body = "client=" + id + "&n=" + std::to_string(n);
      if (shape < 5) {
        request = build_request("POST", sent.target, {{"X-Client-Id", id}, {"Content-Type", "text/plain"}}, sent.body);
      } else {
        std::ostringstream chunked;
        chunked << std::hex << sent.body.size() << "\r\n" << sent.body << "\r\n0\r\n\r\n";
        request = build_request("POST", sent.target,
                                {{"X-Client-Id", id}, {"Content-Type", "text/plain"}, {"Transfer-Encoding", "chunked"}},
                                chunked.str());
      }
    }
    try {
      if (!connection || left_on_connection <= 0) {
        connection = std::make_unique<ScopedFd>(connect_to(lb_port));
        left_on_connection = 5 + static_cast<int>(rng() % 36);
      }
      send_all(connection->get(), request, kAnswerTimeout);
      RawResponse response = read_response(connection->get(), kAnswerTimeout);
      ++report->answered;
      std::string problem = check_answer(kind, response, sent);
      if (!problem.empty()) note_failure(report, id + " request " + std::to_string(n) + " (" + sent.method + "): " + problem);
      --left_on_connection;
      auto connection_header = response.header("Connection");
      if (connection_header && iequals(*connection_header, "close")) connection.reset();
    } catch (const std::exception& e) {
      note_failure(report, id + " request " + std::to_string(n) + " (" + sent.method + "): no answer: " + e.what());
      connection.reset();
      if (++errors >= kMaxHonestErrors) {
        ++n;
        break;
      }
    }
  }
  if (n < kRequestsPerClient) {
    note_failure(report, id + " gave up after " + std::to_string(n) + " requests (" + std::to_string(errors) +
                             " without an answer)");
  }
}

void run_cross_talk(Kind kind, const std::vector<std::string>& backend_urls) {
  const unsigned seed = junk_seed();
  INFO("junk seed " << seed << " (set CROSSTALK_SEED to change it)");
  LoadBalancerProcess lb(backend_urls);
  // The load balancer serves before the junk starts.
  REQUIRE(check_answer(kind, http_request(lb.port(), build_request("GET", "/echo/first")), {"GET", "/echo/first", "", ""}) == "");

  const auto started = Clock::now();
  std::atomic<bool> honest_done{false};
  std::vector<JunkReport> junk_reports(kJunkClients);
  std::vector<std::thread> junk;
  for (int j = 0; j < kJunkClients; ++j) {
    junk.emplace_back(junk_client, lb.port(), seed + static_cast<unsigned>(j), std::cref(honest_done), &junk_reports[j]);
  }
  std::vector<HonestReport> honest_reports(kHonestClients);
  std::vector<std::thread> honest;
  for (int c = 0; c < kHonestClients; ++c) {
    const std::string id = "client" + std::to_string(c) + "-" + std::to_string(seed % 10007) + "z";
    honest.emplace_back(honest_client, kind, lb.port(), id, seed * 31 + static_cast<unsigned>(c), &honest_reports[c]);
  }
  for (auto& thread : honest) thread.join();
  honest_done = true;
  for (auto& thread : junk) thread.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();

  int answered = 0;
  int failures = 0;
  std::string examples;
  for (const auto& report : honest_reports) {
    answered += report.answered;
    failures += report.failures;
    for (const auto& example : report.examples) examples += "\n  " + example;
  }
  int junk_sent = 0;
  for (const auto& report : junk_reports) junk_sent += report.sent;
  INFO(answered << " honest requests and " << junk_sent << " junk requests in " << seconds << " s");
  CHECK(junk_sent >= 20);  // the junk really flowed meanwhile
  CHECK(answered == kHonestClients * kRequestsPerClient);  // every honest request got an answer
  {
    INFO("first wrong answers per client:" << examples);
    CHECK(failures == 0);
  }

  // The load balancer is still up and still answers a clean request right.
  REQUIRE(lb.process().running());
  std::string final_problem;
  try {
    final_problem = check_answer(kind, http_request(lb.port(), build_request("GET", "/echo/last")), {"GET", "/echo/last", "", ""});
  } catch (const RawHttpError& e) {
    final_problem = e.what();
  }
  CHECK(final_problem == "");
}

}  // namespace

// Client A's body that backend_server ignores (OPTIONS/GET/HEAD/unknown method
// with Content-Length) never becomes, or answers, client B's next request.
TEST_CASE("a body the backend ignores never reaches the next client (backend_server)",
          "[integration][trust][crosstalk-repro]") {
  BackendProcess backend;
  run_reproduction(Kind::kBackendServer, backend.url());
}

// The same against a backend that reads bodies only for POST/PUT/PATCH and
// echoes each request head: B's answer is always B's own request line.
TEST_CASE("a body the backend ignores never reaches the next client (echo backend)",
          "[integration][trust][crosstalk-repro]") {
  EchoBackend backend;
  run_reproduction(Kind::kEcho, backend.url());
}

// Honest keep-alive clients in parallel with mutated smuggling junk, through
// two backend_server processes: every honest answer is 200 and its own.
TEST_CASE("honest clients get only their own answers while junk flows (backend_server)",
          "[integration][trust][crosstalk]") {
  BackendProcess a, b;
  run_cross_talk(Kind::kBackendServer, {a.url(), b.url()});
}

// The same through two echo backends: each echoed head is the client's own request.
TEST_CASE("honest clients get only their own answers while junk flows (echo backend)",
          "[integration][trust][crosstalk]") {
  EchoBackend a, b;
  run_cross_talk(Kind::kEcho, {a.url(), b.url()});
  INFO("echo backends answered " << a.requests() << " and " << b.requests() << ", rejected "
                                  << a.rejected() + b.rejected());
  CHECK(a.requests() > 0);  // both took part
  CHECK(b.requests() > 0);
}
