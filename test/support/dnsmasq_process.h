// A dnsmasq child process answering on 127.0.0.1 and a free port, for the
// DNS SRV discovery tests: no upstream, no /etc/hosts, only the records given.
//
//   test_support::DnsmasqProcess dns({"--srv-host=_http._tcp.web.test,web1.test,8001,0,10",
//                                     "--host-record=web1.test,127.0.0.1"});
//   ... "--resolver", dns.resolver() ...
//   dns.restart({...});  // new records on the same port (dnsmasq re-reads SRV records only at start)
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "test/support/child_process.h"

namespace test_support {

class DnsmasqProcess {
 public:
  // Starts dnsmasq with `records` (its flags, e.g. --srv-host=..., --host-record=...) and
  // waits until it has started. Throws std::runtime_error (with its output) if it cannot.
  explicit DnsmasqProcess(std::vector<std::string> records);
  ~DnsmasqProcess();

  int port() const { return port_; }
  std::string resolver() const { return "127.0.0.1:" + std::to_string(port_); }

  // Stops it (SIGTERM, waits for the exit): queries go unanswered.
  void stop();
  // Stops it if running and starts it again on the same port with `records`.
  void restart(std::vector<std::string> records);

 private:
  // Starts on port_; false (the child reaped) if dnsmasq gave up, e.g. the port was taken.
  bool start(const std::vector<std::string>& records);

  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
  std::string failures_;  // output of starts that gave up
};

}  // namespace test_support
