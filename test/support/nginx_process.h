// An nginx child process (Debian's, /usr/sbin/nginx; scripts/deps.sh --test)
// with one TLS server on a free loopback port, for tests that need a real
// third-party HTTPS backend, e.g. one that requires a client certificate:
//
//   test_support::NginxProcess nginx("ssl_certificate ...; ssl_verify_client on;\n"
//                                    "location / { return 200 \"$ssl_client_s_dn\"; }");
//   LoadBalancerProcess lb({nginx.https_url()}, {...});
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "test/support/child_process.h"

namespace test_support {

class NginxProcess {
 public:
  // Starts nginx (one process, no daemon, everything in a fresh temp dir) with
  // `server_directives` inside `server { listen 127.0.0.1:PORT ssl; ... }` and
  // returns once it listens. Throws std::runtime_error with its error log if
  // it does not come up.
  explicit NginxProcess(const std::string& server_directives);
  ~NginxProcess();
  NginxProcess(const NginxProcess&) = delete;
  NginxProcess& operator=(const NginxProcess&) = delete;

  int port() const { return port_; }
  std::string https_url() const { return "https://localhost:" + std::to_string(port_); }

  static bool installed();

 private:
  bool start(const std::string& server_directives);  // false: it exited (its port was taken meanwhile)

  std::filesystem::path dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace test_support
