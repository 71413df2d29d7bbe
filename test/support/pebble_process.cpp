#include "test/support/pebble_process.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "test/support/free_port.h"
#include "test/support/shell.h"
#include "test/support/test_certificates.h"

namespace test_support {

namespace {

constexpr char kPebble[] = "/usr/bin/pebble";
constexpr char kChallTestSrv[] = "/usr/bin/pebble-challtestsrv";

}  // namespace

bool PebbleProcess::installed() { return ::access(kPebble, X_OK) == 0 && ::access(kChallTestSrv, X_OK) == 0; }

PebbleProcess::PebbleProcess(PebbleSettings settings)
    : settings_(settings),
      http_port_(free_port()),
      tls_port_(free_port()),
      acme_port_(free_port()),
      management_port_(free_port()),
      dns_port_(free_port()) {
  char pattern[] = "/tmp/lb_pebble_XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  const auto& certs = test_certificates();  // "server" is for localhost and 127.0.0.1
  std::ofstream(dir_ + "/pebble.json")
      << "{\"pebble\": {\"listenAddress\": \"127.0.0.1:" << acme_port_ << "\", \"managementListenAddress\": "
      << "\"127.0.0.1:" << management_port_ << "\", \"certificate\": \"" << certs.path("server.crt")
      << "\", \"privateKey\": \"" << certs.path("server.key") << "\", \"httpPort\": " << http_port_
      << ", \"tlsPort\": " << tls_port_ << ", \"ocspResponderURL\": \"\", \"externalAccountBindingRequired\": false"
      << (settings_.validity_seconds > 0 ? ", \"certificateValidityPeriod\": " + std::to_string(settings_.validity_seconds)
                                         : std::string())
      << "}}\n";
  const std::string dns = "127.0.0.1:" + std::to_string(dns_port_);
  dns_ = std::make_unique<ChildProcess>(
      kChallTestSrv, std::vector<std::string>{"-dns01", dns, "-http01", "", "-https01", "", "-tlsalpn01", "",
                                              "-management", "127.0.0.1:" + std::to_string(free_port()),
                                              "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""});
  if (!dns_->wait_for_line("Starting management server", std::chrono::seconds(10))) {
    throw std::runtime_error("pebble-challtestsrv did not start:\n" + dns_->output());
  }
  start();
}

PebbleProcess::~PebbleProcess() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string PebbleProcess::directory_url() const {
  return "https://localhost:" + std::to_string(acme_port_) + "/dir";
}

std::string PebbleProcess::ca_file() const { return test_certificates().path("ca.crt"); }

std::string PebbleProcess::root_file() {
  const std::string file = dir_ + "/root.pem";
  auto [status, output] = shell("curl -sS --max-time 10 --cacert " + ca_file() + " -o " + file +
                                " https://localhost:" + std::to_string(management_port_) + "/roots/0");
  if (status != 0) throw std::runtime_error("pebble's root: " + output);
  return file;
}

void PebbleProcess::start() {
  // Authorizations are never reused, so each order proves its challenge again.
  if (settings_.validation_sleep_seconds > 0) {
    ::unsetenv("PEBBLE_VA_NOSLEEP");
    ::setenv("PEBBLE_VA_SLEEPTIME", std::to_string(settings_.validation_sleep_seconds).c_str(), 1);
  } else {
    ::setenv("PEBBLE_VA_NOSLEEP", "1", 1);
  }
  ::setenv("PEBBLE_AUTHZREUSE", "0", 1);
  ::setenv("PEBBLE_WFE_NONCEREJECT", std::to_string(settings_.nonce_reject_percent).c_str(), 1);
  pebble_ = std::make_unique<ChildProcess>(
      kPebble, std::vector<std::string>{"-config", dir_ + "/pebble.json", "-dnsserver",
                                        "127.0.0.1:" + std::to_string(dns_port_)});
  if (!pebble_->wait_for_line("ACME directory available", std::chrono::seconds(15))) {
    throw std::runtime_error("pebble did not start:\n" + pebble_->output());
  }
}

void PebbleProcess::stop() {
  if (!pebble_) return;
  pebble_->signal(SIGKILL);
  pebble_->wait_exit(std::chrono::seconds(5));
  pebble_.reset();
}

}  // namespace test_support
