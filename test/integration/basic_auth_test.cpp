// README "Access control", basic auth, through the real binaries and curl:
// no credentials, a wrong password, the right one for each hash type
// (SHA-crypt from openssl, bcrypt from htpasswd -B), Authorization not
// forwarded, failed attempts limited, SIGHUP re-reading the file, HTTP/2, and
// unsafe or weak files refused at start and by --check.
#include <catch2/catch.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/recording_backend.h"
#include "test/support/shell.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string temp_path(const std::string& name) {
  return "/tmp/lb_basic_auth_test_" + std::to_string(::getpid()) + "_" + name;
}

// One htpasswd line made by a real tool: `openssl passwd -5/-6` or `htpasswd -B`.
std::string user_line(const std::string& user, const std::string& password, const std::string& kind) {
  std::string command = kind == "bcrypt" ? "htpasswd -nbB -C 5 " + user + " " + password
                                         : "printf '%s:' " + user + "; openssl passwd " + kind + " " + password;
  auto [status, output] = shell(command);
  REQUIRE(status == 0);
  return output.substr(0, output.find('\n')) + "\n";
}

void write_file(const std::string& path, const std::string& text, mode_t mode = 0600) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

// A config with one guarded route (/private) and one open (/), both to `backend`.
std::string config_for(const std::string& backend, const std::string& users) {
  return json{{"pools", {{"web", {{"backends", {backend}}}}}},
              {"routes", json::array({{{"path", "/private"}, {"pool", "web"},
                                       {"basic-auth", {{"realm", "Staff only"}, {"users", users}}}},
                                      {{"pool", "web"}}})}}
      .dump();
}

std::string curl(int port, const std::string& path, const std::string& extra = "") {
  return shell("curl -sS -i --max-time 10 " + extra + " 'http://127.0.0.1:" + std::to_string(port) + path + "'").second;
}

struct Guarded {
  RecordingBackend backend;
  std::string users = temp_path("users");
  std::string config = temp_path("config.json");
  Guarded(const std::string& lines) {
    write_file(users, lines);
    write_file(config, config_for(backend.url(), users));
  }
  ~Guarded() {
    std::remove(users.c_str());
    std::remove(config.c_str());
  }
};

}  // namespace

// Every outcome: none, wrong, right for each hash type; the backend never sees Authorization.
TEST_CASE("basic auth: 401 with the realm, each hash type lets its user in", "[integration][basic-auth]") {
  Guarded setup(user_line("alice", "pw-sha256", "-5") + user_line("carol", "pw-sha512", "-6") +
                user_line("bob", "pw-bcrypt", "bcrypt"));
  LoadBalancerProcess lb({}, {"--config", setup.config, "--admin-port", "0", "--trace-header"});
  const std::string none = curl(lb.port(), "/private/x");
  CHECK(none.find("HTTP/1.1 401 Unauthorized") == 0);
  CHECK(none.find("WWW-Authenticate: Basic realm=\"Staff only\"") != std::string::npos);
  CHECK(none.find(R"({"error":"authentication required"})") != std::string::npos);
  const std::string wrong = curl(lb.port(), "/private/x", "-u alice:wrong");
  CHECK(wrong.find("HTTP/1.1 401") == 0);
  CHECK(wrong.find("refused=basic auth: wrong user or password") != std::string::npos);
  CHECK(curl(lb.port(), "/private/x", "-u nobody:pw-sha256").find("HTTP/1.1 401") == 0);
  CHECK(curl(lb.port(), "/private/x", "-H 'Authorization: Basic !!!!'").find("HTTP/1.1 401") == 0);
  CHECK(setup.backend.requests() == 0);

  const std::string alice = curl(lb.port(), "/private/x", "-u alice:pw-sha256");
  CHECK(alice.find("HTTP/1.1 200") == 0);
  CHECK(alice.find("edge=basic auth alice") != std::string::npos);
  CHECK(curl(lb.port(), "/private/x", "-u carol:pw-sha512").find("HTTP/1.1 200") == 0);
  CHECK(curl(lb.port(), "/private/x", "-u bob:pw-bcrypt").find("HTTP/1.1 200") == 0);
  CHECK(setup.backend.requests() == 3);
  CHECK(setup.backend.received().find("Authorization") == std::string::npos);
  CHECK(setup.backend.received().find("authorization") == std::string::npos);

  // The open route passes Authorization on as it is.
  CHECK(curl(lb.port(), "/", "-u someone:else").find("HTTP/1.1 200") == 0);
  CHECK(setup.backend.received().find("Authorization: Basic c29tZW9uZTplbHNl") != std::string::npos);
  const std::string metrics = http_request(lb.admin_port(), build_request("GET", "/metrics")).body;
  CHECK(metrics.find("lb_edge_refused_total{reason=\"basic_auth\"} 4") != std::string::npos);
  CHECK(metrics.find("lb_basic_auth_failures_total 3") != std::string::npos);
}

// HTTP/2 clients get the same 401 and pass with the same credentials.
TEST_CASE("basic auth over HTTP/2", "[integration][basic-auth][http2]") {
  Guarded setup(user_line("alice", "pw", "-6"));
  LoadBalancerProcess lb({}, {"--config", setup.config, "--h2c"});
  const std::string none = curl(lb.port(), "/private", "--http2-prior-knowledge");
  CHECK(none.find("HTTP/2 401") == 0);
  CHECK(none.find("www-authenticate: Basic realm=\"Staff only\"") != std::string::npos);
  CHECK(curl(lb.port(), "/private", "--http2-prior-knowledge -u alice:pw").find("HTTP/2 200") == 0);
  CHECK(setup.backend.received().find("uthorization") == std::string::npos);
}

// Ten failures, then 429 without checking, even for the right password.
TEST_CASE("basic auth: failed attempts are limited per client", "[integration][basic-auth]") {
  Guarded setup(user_line("alice", "pw", "-5"));
  LoadBalancerProcess lb({}, {"--config", setup.config});
  for (int i = 0; i < 10; ++i) CHECK(curl(lb.port(), "/private", "-u alice:bad").find("HTTP/1.1 401") == 0);
  const std::string limited = curl(lb.port(), "/private", "-u alice:pw");
  CHECK(limited.find("HTTP/1.1 429") == 0);
  CHECK(limited.find("Retry-After: ") != std::string::npos);
  // Another client is not affected.
  CHECK(curl(lb.port(), "/private", "--interface 127.0.0.2 -u alice:pw").find("HTTP/1.1 200") == 0);
}

// SIGHUP reads the users file again: a new password works, the old one no longer does.
TEST_CASE("basic auth: SIGHUP re-reads the users file", "[integration][basic-auth][reload]") {
  Guarded setup(user_line("alice", "old", "-5"));
  LoadBalancerProcess lb({}, {"--config", setup.config});
  CHECK(curl(lb.port(), "/private", "-u alice:old").find("HTTP/1.1 200") == 0);
  write_file(setup.users, user_line("alice", "new", "-6"));
  lb.process().signal(SIGHUP);
  REQUIRE(lb.process().wait_for_line("[Reload] applied", 10s));
  CHECK(curl(lb.port(), "/private", "-u alice:new").find("HTTP/1.1 200") == 0);
  CHECK(curl(lb.port(), "/private", "-u alice:old").find("HTTP/1.1 401") == 0);
  // A bad file on reload keeps the running one.
  write_file(setup.users, "alice:$apr1$vivXHJe6$qKbykVPFnv0VLtdt3JsPN1\n");
  lb.process().signal(SIGHUP);
  REQUIRE(lb.process().wait_for_line("[Reload] rejected: users file " + setup.users + " line 1: MD5", 10s));
  CHECK(curl(lb.port(), "/private", "-u alice:new").find("HTTP/1.1 200") == 0);
}

// Unsafe, missing and weak files stop the start and --check with one line and exit 2.
TEST_CASE("basic auth: bad users files are refused with exit 2", "[integration][basic-auth]") {
  Guarded setup(user_line("alice", "pw", "-5"));
  ::chmod(setup.users.c_str(), 0664);
  auto [status, output] = run_load_balancer_to_exit({"--config", setup.config});
  CHECK(status == 2);
  CHECK(output == "load_balancer: users file " + setup.users +
                      " is writable by group or others (unsafe: chmod go-w)\n");
  write_file(setup.users, user_line("alice", "pw", "-5") + "plain:secret\n");
  std::tie(status, output) = run_load_balancer_to_exit({"--config", setup.config, "--check"});
  CHECK(status == 2);
  CHECK(output.find("load_balancer: users file " + setup.users + " line 2: plain-text and DES passwords") == 0);
  std::remove(setup.users.c_str());
  std::tie(status, output) = run_load_balancer_to_exit({"--config", setup.config, "--check"});
  CHECK(status == 2);
  CHECK(output == "load_balancer: users file " + setup.users + ": cannot read it (No such file or directory)\n");
  write_file(setup.users, user_line("alice", "pw", "-5"));
  std::tie(status, output) = run_load_balancer_to_exit({"--config", setup.config, "--check"});
  CHECK(status == 0);
  CHECK(output.find("basic auth \"Staff only\" (1 users in " + setup.users + ")") != std::string::npos);
}
