// Both programs stop on SIGTERM whenever it comes: right after the listening
// line, during the load balancer's first health round and during a reload,
// each many times over while every CPU is kept busy. A signal that came before
// the accept loop began used to be lost (httplib's stop() does nothing until
// the loop runs), and the process listened on forever: common/http_listener.h.
#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "test/support/backend_process.h"
#include "test/support/busy_cpus.h"
#include "test/support/child_process.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"

using test_support::BackendProcess;
using test_support::BusyCpus;
using test_support::ChildProcess;
using test_support::LoadBalancerProcess;

namespace {

// Generous: a hang is what fails, not a slow exit under a sanitizer.
constexpr std::chrono::seconds kExitLimit{20};
constexpr int kRounds = 35;

// Waits for a connection on `listener` and accepts it; -1 after `timeout`.
int accept_within(int listener, std::chrono::milliseconds timeout) {
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return -1;
  return ::accept(listener, nullptr, nullptr);
}

}  // namespace

TEST_CASE("backend_server: SIGTERM right after the listening line, CPUs busy", "[stop][process]") {
  BusyCpus busy;
  for (int round = 0; round < kRounds; ++round) {
    INFO("round " << round);
    BackendProcess backend;
    REQUIRE(backend.process().signal(SIGTERM));
    REQUIRE(backend.process().wait_exit(kExitLimit) == 0);
  }
}

TEST_CASE("load_balancer: SIGTERM right after the listening line, CPUs busy", "[stop][process]") {
  BackendProcess backend;
  BusyCpus busy;
  for (int round = 0; round < kRounds; ++round) {
    INFO("round " << round);
    LoadBalancerProcess lb({backend.url()}, {"--health-interval", "60"});
    REQUIRE(lb.process().signal(SIGTERM));
    REQUIRE(lb.process().wait_exit(kExitLimit) == 0);
    REQUIRE(lb.process().output().find("stopped") != std::string::npos);
  }
}

// The first health round runs before the listener opens: the signal comes
// while its probe is connected to a backend that has not answered yet.
TEST_CASE("load_balancer: SIGTERM during the first health round, CPUs busy", "[stop][process]") {
  int backend_port = 0;
  test_support::ScopedFd silent_backend(test_support::listen_loopback(backend_port, "silent backend"));
  const std::string url = "http://127.0.0.1:" + std::to_string(backend_port);
  BusyCpus busy;
  for (int round = 0; round < kRounds; ++round) {
    INFO("round " << round);
    ChildProcess lb(test_support::bin_path("load_balancer"),
                    {"--port", "0", "--bind", "127.0.0.1", "--backend", url, "--health-interval", "60"});
    test_support::ScopedFd probe(accept_within(silent_backend.get(), kExitLimit));
    REQUIRE(probe.get() >= 0);
    REQUIRE(lb.signal(SIGTERM));
    probe.reset();  // the probe fails at once: the round ends, start-up goes on, then stops
    REQUIRE(lb.wait_exit(kExitLimit) == 0);
  }
}

// SIGHUP then SIGTERM at once: the stop arrives while the reload runs.
TEST_CASE("load_balancer: SIGTERM during a reload, CPUs busy", "[stop][process]") {
  BackendProcess backend;
  BusyCpus busy;
  for (int round = 0; round < kRounds; ++round) {
    INFO("round " << round);
    LoadBalancerProcess lb({backend.url()}, {"--health-interval", "60"});
    REQUIRE(lb.process().signal(SIGHUP));
    REQUIRE(lb.process().signal(SIGTERM));
    REQUIRE(lb.process().wait_exit(kExitLimit) == 0);
  }
}

// The signal thread is woken with SIGUSR1 at exit; one sent from outside must
// not end it, or the next SIGTERM would find no one to take it.
TEST_CASE("a SIGUSR1 from outside does not stop either program from taking SIGTERM", "[stop][process]") {
  BackendProcess backend;
  LoadBalancerProcess lb({backend.url()}, {"--health-interval", "60"});
  for (auto [process, port] : {std::pair{&lb.process(), lb.port()}, std::pair{&backend.process(), backend.port()}}) {
    REQUIRE(process->signal(SIGUSR1));
    REQUIRE(test_support::http_request(port, test_support::build_request("GET", "/")).status == 200);
    REQUIRE(process->signal(SIGTERM));
    REQUIRE(process->wait_exit(kExitLimit) == 0);
  }
}
