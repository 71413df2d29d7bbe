// test_support::ChildProcess, the helper that runs programs for integration tests.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <string>

#include "test/support/child_process.h"

using test_support::ChildProcess;
using namespace std::chrono_literals;

namespace {

ChildProcess shell(const std::string& script) { return ChildProcess("/bin/sh", {"-c", script}); }

}  // namespace

// Lines from stdout and stderr are all seen, each stream in order, and kept.
TEST_CASE("ChildProcess: waits for lines on stdout and stderr", "[support]") {
  ChildProcess child("/bin/sh", {"-c", "echo out-1; echo err-1 >&2; echo out-2; printf tail"});
  CHECK(child.wait_for_line("err-", 10s) == "err-1");
  CHECK(child.wait_for_line("out-", 10s, 2) == "out-2");
  CHECK_FALSE(child.wait_for_line("out-", 100ms, 3));
  CHECK(child.wait_exit(10s) == 0);
  CHECK(child.stdout_text() == "out-1\nout-2\ntail");
  CHECK(child.stderr_text() == "err-1\n");
  CHECK(child.lines().size() == 4);
  CHECK(child.lines().back() == "tail");  // an unterminated last line counts at EOF
  CHECK(child.count_lines("out-") == 2);
  std::string all = child.output();
  CHECK(all.find("out-1\n") < all.find("out-2\n"));
  CHECK(all.find("err-1\n") != std::string::npos);
}

// A line that never comes ends the wait at the timeout, or when the child closes its output.
TEST_CASE("ChildProcess: wait_for_line is bounded", "[support]") {
  ChildProcess sleeper("/bin/sleep", {"30"});
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(sleeper.wait_for_line("never", 200ms));
  CHECK(std::chrono::steady_clock::now() - start < 5s);

  ChildProcess quick("/bin/true", {});
  CHECK_FALSE(quick.wait_for_line("never", 30s));  // returns at EOF, long before 30 s
  CHECK(quick.wait_exit(10s) == 0);
}

// Exit codes come back as is, deaths by signal as 128 + N, still running as nullopt.
TEST_CASE("ChildProcess: exit status", "[support]") {
  CHECK(ChildProcess("/bin/sh", {"-c", "exit 3"}).wait_exit(10s) == 3);

  ChildProcess sleeper("/bin/sleep", {"30"});
  CHECK(sleeper.running());
  CHECK_FALSE(sleeper.wait_exit(100ms).has_value());
  REQUIRE(sleeper.signal(SIGTERM));
  CHECK(sleeper.wait_exit(10s) == 128 + SIGTERM);
  CHECK_FALSE(sleeper.running());
  CHECK_FALSE(sleeper.signal(SIGTERM));  // reaped: never signals a recycled PID
}

// The child starts with default signal handling even though the tests ignore SIGPIPE.
TEST_CASE("ChildProcess: child has default signal dispositions", "[support]") {
  ChildProcess child("/bin/grep", {"SigIgn", "/proc/self/status"});
  auto line = child.wait_for_line("SigIgn:", 10s);
  REQUIRE(line);
  unsigned long long ignored = std::stoull(line->substr(line->find(':') + 1), nullptr, 16);
  CHECK((ignored & (1ull << (SIGPIPE - 1))) == 0);
  CHECK((ignored & (1ull << (SIGTERM - 1))) == 0);
}

// The destructor kills a child that is still running.
TEST_CASE("ChildProcess: destructor kills and reaps", "[support]") {
  pid_t pid;
  {
    ChildProcess sleeper("/bin/sleep", {"30"});
    pid = sleeper.pid();
  }
  CHECK(::kill(pid, 0) != 0);  // gone and reaped
}

// A program that does not exist is an exception, not a silent child.
TEST_CASE("ChildProcess: missing program throws", "[support]") {
  CHECK_THROWS_AS(ChildProcess("/no/such/program", {}), std::runtime_error);
}

// The port is read from lines like "... listening on HOST:PORT".
TEST_CASE("ChildProcess: parse_listening_port", "[support]") {
  auto parse = [](const std::string& line) { return ChildProcess::parse_listening_port(line); };
  CHECK(parse("backend_server Server_on_Port_8001 listening on 0.0.0.0:8001") == 8001);
  CHECK(parse("listening on [::1]:9000 (admin)") == 9000);
  CHECK(parse("2024-01-01T00:00:00Z load_balancer listening on http://127.0.0.1:8000/") == 8000);
  CHECK_FALSE(parse("listening on 0.0.0.0"));
  CHECK_FALSE(parse("listening on host:0"));
  CHECK_FALSE(parse("listening on host:70000"));
  CHECK_FALSE(parse("started"));
  CHECK(ChildProcess::parse_listening_port("admin at 127.0.0.1:9100", "admin at ") == 9100);

  ChildProcess child = shell("echo 'x listening on 127.0.0.1:4321'; sleep 30");
  CHECK(child.port_from_listening_line(10s) == 4321);
  ChildProcess silent("/bin/true", {});
  CHECK_THROWS_WITH(silent.port_from_listening_line(10s), Catch::Contains("listening on"));
}
