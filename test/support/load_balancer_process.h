// A load_balancer child process on a free port, in front of given backends.
//
//   test_support::BackendProcess a, b;
//   test_support::LoadBalancerProcess lb({a.url(), b.url()}, {"--health-interval", "0.2"});
//   http_request(lb.port(), build_request("GET", "/"));
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "test/support/child_process.h"

namespace test_support {

class LoadBalancerProcess {
 public:
  // Starts `load_balancer --port 0 --bind 127.0.0.1 --backend URL... <extra_args>`
  // (without the --port or --bind when extra_args has its own)
  // and waits for its listening line. Throws (with its output) if it does not come up.
  LoadBalancerProcess(const std::vector<std::string>& backend_urls, const std::vector<std::string>& extra_args = {});

  int port() const { return port_; }
  // The admin server's port (when started with --admin-port).
  int admin_port();
  ChildProcess& process() { return process_; }
  // Resident memory of the process right now, and its peak so far, in KiB (/proc).
  long rss_kib() const;
  long peak_rss_kib() const;

 private:
  ChildProcess process_;
  int port_;
};

// Runs `load_balancer ARGS` to its end (--check, or a refused start) and returns
// its exit status (-1 if it ran for 10 s) and everything it printed.
std::pair<int, std::string> run_load_balancer_to_exit(const std::vector<std::string>& args);

}  // namespace test_support
