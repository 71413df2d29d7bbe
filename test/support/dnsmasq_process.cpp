#include "test/support/dnsmasq_process.h"

#include <signal.h>

#include <stdexcept>

#include "test/support/free_port.h"

namespace test_support {

namespace {

constexpr const char* kDnsmasq = "/usr/sbin/dnsmasq";

}  // namespace

DnsmasqProcess::DnsmasqProcess(std::vector<std::string> records) {
  // free_port() checks TCP; dnsmasq binds UDP and TCP: another try on a fresh port if either is taken.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    if (start(records)) return;
  }
  throw std::runtime_error("dnsmasq did not start:\n" + failures_);
}

DnsmasqProcess::~DnsmasqProcess() { stop(); }

bool DnsmasqProcess::start(const std::vector<std::string>& records) {
  std::vector<std::string> args{"--no-daemon",       "--no-resolv",
                                "--no-hosts",        "--port=" + std::to_string(port_),
                                "--listen-address=127.0.0.1", "--bind-interfaces",
                                "--conf-file=/dev/null", "--pid-file=",
                                "--cache-size=0"};
  args.insert(args.end(), records.begin(), records.end());
  process_ = std::make_unique<ChildProcess>(kDnsmasq, args);
  // "started" comes once the sockets are bound; a taken port ends the process with a "failed to" line.
  if (process_->wait_for_line("dnsmasq: started", std::chrono::seconds(10))) return true;
  failures_ += process_->output();
  process_->signal(SIGKILL);
  process_->wait_exit(std::chrono::seconds(5));
  process_.reset();
  return false;
}

void DnsmasqProcess::stop() {
  if (!process_) return;
  process_->signal(SIGTERM);
  if (!process_->wait_exit(std::chrono::seconds(5))) {
    process_->signal(SIGKILL);
    process_->wait_exit(std::chrono::seconds(5));
  }
  process_.reset();
}

void DnsmasqProcess::restart(std::vector<std::string> records) {
  stop();
  // The port was just released; a moment's race with another program is retried.
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (start(records)) return;
  }
  throw std::runtime_error("dnsmasq did not start again on port " + std::to_string(port_) + ":\n" + failures_);
}

}  // namespace test_support
