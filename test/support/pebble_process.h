// Debian's pebble (a small ACME server, RFC 8555) and pebble-challtestsrv (its
// DNS, answering every name with 127.0.0.1), on free loopback ports, for the
// Automatic HTTPS tests. Pebble validates challenges against the load
// balancer's ports, so they are chosen first and given to both.
//
//   test_support::PebbleProcess pebble({});
//   LoadBalancerProcess lb({...}, {"--port", std::to_string(pebble.tls_port()), "--acme-domain", "a.example.test",
//                                  "--acme-directory", pebble.directory_url(), "--acme-ca", pebble.ca_file(), ...});
#pragma once

#include <memory>
#include <string>

#include "test/support/child_process.h"

namespace test_support {

struct PebbleSettings {
  int validity_seconds = 0;      // the certificates' lifetime; 0: pebble's default (years)
  int nonce_reject_percent = 0;  // good nonces refused as badNonce
  int validation_sleep_seconds = 0;  // > 0: each validation first sleeps 0 to N-1 s (time to stop pebble mid-order)
};

class PebbleProcess {
 public:
  // Throws std::runtime_error if pebble is missing or does not come up.
  explicit PebbleProcess(PebbleSettings settings);
  ~PebbleProcess();

  // Where pebble validates: the load balancer's --redirect-http port (HTTP-01)
  // and its TLS port (TLS-ALPN-01).
  int http_port() const { return http_port_; }
  int tls_port() const { return tls_port_; }
  std::string directory_url() const;
  // The CA that signs pebble's own HTTPS certificate (--acme-ca).
  std::string ca_file() const;
  // The root pebble issues under (made fresh at each start), as PEM in a file.
  std::string root_file();

  // Pebble's output, e.g. its "Sleeping for 2s seconds before validating" while an order waits.
  ChildProcess& process() { return *pebble_; }
  void stop();   // SIGKILL, as a crash would; pebble forgets everything
  void start();  // again, on the same ports

  static bool installed();

 private:
  PebbleSettings settings_;
  int http_port_;
  int tls_port_;
  int acme_port_;
  int management_port_;
  int dns_port_;
  std::string dir_;
  std::unique_ptr<ChildProcess> dns_;
  std::unique_ptr<ChildProcess> pebble_;
};

}  // namespace test_support
