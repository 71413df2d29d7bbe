// SIGUSR2 starts the binary at the running one's path again on the same
// listening sockets (lb/operations/binary_upgrade.h); systemd socket
// activation hands a socket over the same way. A steady load of new and
// keep-alive connections runs across a failed upgrade (the file replaced by
// a program that exits at once), a real one, and an upgrade of the upgraded
// process: not one request may fail.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "test/support/backend_process.h"
#include "test/support/child_process.h"
#include "test/support/eventually.h"
#include "test/support/free_port.h"
#include "test/support/raw_http.h"
#include "test/support/steady_load.h"

using test_support::BackendProcess;
using test_support::ChildProcess;
using test_support::eventually;
using test_support::SteadyLoad;

namespace {

namespace fs = std::filesystem;

// Installs `source` at `target` the way a package manager does: a new file
// renamed over the old one, so the running process keeps its own inode.
void install_binary(const fs::path& source, const fs::path& target) {
  const fs::path fresh = target.string() + ".new";
  fs::copy_file(source, fresh, fs::copy_options::overwrite_existing);
  fs::permissions(fresh, fs::perms::owner_all);
  fs::rename(fresh, target);
}

void install_script(const std::string& text, const fs::path& target) {
  const fs::path fresh = target.string() + ".new";
  std::ofstream(fresh) << text;
  fs::permissions(fresh, fs::perms::owner_all);
  fs::rename(fresh, target);
}

// The pid in "[Upgrade] new process PID serves; ...".
pid_t successor_pid(const std::string& line) {
  const std::string marker = "new process ";
  return static_cast<pid_t>(std::stol(line.substr(line.find(marker) + marker.size())));
}

// Waits until `count` more requests than now have succeeded.
bool load_goes_on(const SteadyLoad& load, long count) {
  const long target = load.succeeded() + count;
  return eventually([&] { return load.succeeded() >= target; }, std::chrono::seconds(20));
}

struct TemporaryDirectory {
  TemporaryDirectory() {
    char pattern[] = "/tmp/lb-upgrade-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TemporaryDirectory() { fs::remove_all(path); }
  fs::path path;
};

}  // namespace

TEST_CASE("SIGUSR2 upgrades the binary under load without a failed request before and after a failed try",
          "[integration][upgrade]") {
  BackendProcess backend_a;
  BackendProcess backend_b;
  TemporaryDirectory directory;
  const fs::path binary = directory.path / "load_balancer";
  install_binary(LB_BIN_DIR "/load_balancer", binary);
  ChildProcess lb(binary.string(), {"--port", "0", "--bind", "127.0.0.1", "-b", backend_a.url(), "-b",
                                    backend_b.url(), "--health-interval", "0.5", "--admin-port", "0"});
  const int port = lb.port_from_listening_line(std::chrono::seconds(15), "load_balancer listening on ");
  const int admin_port = lb.port_from_listening_line(std::chrono::seconds(5), "admin listening on ");
  SteadyLoad load(port);
  REQUIRE(load_goes_on(load, 50));

  SECTION("a new binary that fails to start leaves the old one serving") {
    install_script("#!/bin/sh\necho 'broken build' >&2\nexit 3\n", binary);
    REQUIRE(lb.signal(SIGUSR2));
    const auto failed = lb.wait_for_line("[Upgrade] failed, still serving", std::chrono::seconds(20));
    REQUIRE(failed);
    CHECK(failed->find("exit status 3") != std::string::npos);
    CHECK(lb.running());
    REQUIRE(load_goes_on(load, 50));

    install_binary(LB_BIN_DIR "/load_balancer", binary);
    REQUIRE(lb.signal(SIGUSR2));
    const auto upgraded = lb.wait_for_line("[Upgrade] new process ", std::chrono::seconds(30));
    REQUIRE(upgraded);
    const pid_t successor = successor_pid(*upgraded);
    // The old process drains and exits by itself; the new one serves the same ports.
    REQUIRE(eventually([&] { return !lb.running(); }, std::chrono::seconds(20)));
    CHECK(lb.wait_exit(std::chrono::milliseconds(100)) == 0);
    REQUIRE(load_goes_on(load, 100));
    CHECK(test_support::http_get(admin_port, "/status").status == 200);

    // The new process upgrades in turn (its arguments and path are the same).
    REQUIRE(::kill(successor, SIGUSR2) == 0);
    const auto again = lb.wait_for_line("[Upgrade] new process ", std::chrono::seconds(30), 2);
    REQUIRE(again);
    const pid_t third = successor_pid(*again);
    REQUIRE(lb.wait_for_line("[Load Balancer] stopped", std::chrono::seconds(20), 2));
    REQUIRE(load_goes_on(load, 100));

    load.stop();
    INFO("requests: " << load.succeeded() << " answered, " << load.resent()
                      << " sent again after an idle keep-alive connection was closed");
    for (const std::string& failure : load.failures()) UNSCOPED_INFO(failure);
    CHECK(load.failures().empty());
    REQUIRE(::kill(third, SIGTERM) == 0);
    CHECK(lb.wait_for_line("[Load Balancer] stopped", std::chrono::seconds(20), 3));
  }
}

TEST_CASE("systemd socket activation: the listener comes as descriptor 3", "[integration][upgrade]") {
  BackendProcess backend;
  const int port = test_support::free_port();
  // systemd-socket-activate listens, then starts the program at the first connection.
  ChildProcess activator("/usr/bin/systemd-socket-activate",
                         {"--listen=127.0.0.1:" + std::to_string(port), "--fdname=proxy", LB_BIN_DIR "/load_balancer",
                          "--port", "1", "-b", backend.url(), "--health-interval", "60"});
  REQUIRE(activator.wait_for_line("Listening on", std::chrono::seconds(10)));
  // --port 1 could not be bound: the line shows the inherited socket's port.
  const test_support::RawResponse response = test_support::http_get(port, "/");
  CHECK(response.status == 200);
  const auto listening = activator.wait_for_line("load_balancer listening on", std::chrono::seconds(10));
  REQUIRE(listening);
  CHECK(listening->find(":" + std::to_string(port)) != std::string::npos);
  REQUIRE(activator.signal(SIGTERM));
  CHECK(activator.wait_exit(std::chrono::seconds(20)) == 0);
}
