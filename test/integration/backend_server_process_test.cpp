// backend_server as a program: start-up line, flags, ports and signals.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <string>
#include <vector>

#include "test/support/backend_process.h"
#include "test/support/child_process.h"
#include "test/support/raw_http.h"

using test_support::BackendProcess;
using test_support::bin_path;
using test_support::build_request;
using test_support::ChildProcess;
using test_support::http_request;

namespace {

constexpr std::chrono::seconds kTimeout{30};

// Runs backend_server with `args`, expecting it to exit quickly.
struct Exited {
  int status;
  std::string stdout_text;
  std::string stderr_text;
};

Exited run_to_exit(const std::vector<std::string>& args) {
  ChildProcess child(bin_path("backend_server"), args);
  auto status = child.wait_exit(kTimeout);
  REQUIRE(status.has_value());
  return {*status, child.stdout_text(), child.stderr_text()};
}

}  // namespace

// With port 0 it prints exactly "backend_server Server_on_Port_<P> listening on 0.0.0.0:<P>".
TEST_CASE("backend_server: start-up line names the real port", "[backend][process]") {
  ChildProcess child(bin_path("backend_server"), {"0"});
  auto line = child.wait_for_line("listening on", kTimeout);
  REQUIRE(line);
  std::string port = std::to_string(child.port_from_listening_line());
  CHECK(*line == "backend_server Server_on_Port_" + port + " listening on 0.0.0.0:" + port);
  CHECK(child.stdout_text() == *line + "\n");  // the only line on stdout
}

// --host is used for the bind and shown in the start-up line.
TEST_CASE("backend_server: --host binds that address", "[backend][process]") {
  ChildProcess child(bin_path("backend_server"), {"0", "--host", "127.0.0.1", "--id", "h"});
  auto line = child.wait_for_line("listening on", kTimeout);
  REQUIRE(line);
  int port = child.port_from_listening_line();
  CHECK(*line == "backend_server h listening on 127.0.0.1:" + std::to_string(port));
  CHECK(http_request(port, build_request("GET", "/health")).status == 200);
}

// Bad flags and bad ports exit 2 with one line on stderr naming the problem.
TEST_CASE("backend_server: bad input exits 2 with one line", "[backend][process]") {
  struct Case {
    std::vector<std::string> args;
    std::string mentions;
  };
  for (const Case& c : {Case{{"--bogus"}, "--bogus"}, Case{{"notaport"}, "notaport"},
                        Case{{"70000"}, "70000"}, Case{{"-5"}, "-5"},
                        Case{{"8001", "8002"}, "8002"}, Case{{"--host"}, "--host"},
                        Case{{"0", "--host", "no.such.host.invalid"}, "no.such.host.invalid"}}) {
    INFO(c.args.front());
    Exited e = run_to_exit(c.args);
    CHECK(e.status == 2);
    CHECK(e.stdout_text.empty());
    CHECK(e.stderr_text.find(c.mentions) != std::string::npos);
    CHECK(std::count(e.stderr_text.begin(), e.stderr_text.end(), '\n') == 1);
  }
}

// --help prints usage and exits 0.
TEST_CASE("backend_server: --help exits 0", "[backend][process]") {
  Exited e = run_to_exit({"--help"});
  CHECK(e.status == 0);
  CHECK(e.stdout_text.find("--host") != std::string::npos);
}

// A port already in use is an error (no SO_REUSEPORT sharing): exit 2.
TEST_CASE("backend_server: busy port exits 2", "[backend][process]") {
  BackendProcess first;
  Exited e = run_to_exit({std::to_string(first.port())});
  CHECK(e.status == 2);
  CHECK(e.stderr_text.find("Address already in use") != std::string::npos);
  CHECK(e.stderr_text.find(std::to_string(first.port())) != std::string::npos);
  CHECK(http_request(first.port(), build_request("GET", "/health")).status == 200);
}

// SIGTERM and SIGINT stop it cleanly with exit status 0.
TEST_CASE("backend_server: SIGTERM and SIGINT exit 0", "[backend][process]") {
  for (int signo : {SIGTERM, SIGINT}) {
    INFO(signo);
    BackendProcess backend;
    REQUIRE(http_request(backend.port(), build_request("GET", "/health")).status == 200);
    REQUIRE(backend.process().signal(signo));
    CHECK(backend.process().wait_exit(kTimeout) == 0);
  }
}

// A signal right after start-up is not lost (it used to race httplib's stop()).
TEST_CASE("backend_server: SIGTERM right after the listening line", "[backend][process]") {
  for (int i = 0; i < 5; ++i) {
    BackendProcess backend;
    REQUIRE(backend.process().signal(SIGTERM));
    CHECK(backend.process().wait_exit(kTimeout) == 0);
  }
}

// Shutdown with an open keep-alive connection and an in-flight /slow request
// still answers that request and exits 0 promptly.
TEST_CASE("backend_server: shutdown answers in-flight requests", "[backend][process]") {
  BackendProcess backend;
  test_support::ScopedFd idle(test_support::connect_to(backend.port()));
  test_support::send_all(idle.get(), build_request("GET", "/health"));
  REQUIRE(test_support::read_response(idle.get()).status == 200);

  auto slow = std::async(std::launch::async, [&] {
    return http_request(backend.port(), build_request("GET", "/slow?ms=60000"), kTimeout).status;
  });
  // Logged by the handler: the request is in flight.
  REQUIRE(backend.process().wait_for_line("/slow?ms=60000: waiting", kTimeout));
  auto start = std::chrono::steady_clock::now();
  REQUIRE(backend.process().signal(SIGTERM));
  CHECK(slow.get() == 200);
  CHECK(backend.process().wait_exit(kTimeout) == 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(12));
  CHECK(backend.process().output().find("shutting down") != std::string::npos);
}
