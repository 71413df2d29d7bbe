// A backend_server child process on a free port, for integration tests.
//
//   test_support::BackendProcess backend;               // id Server_on_Port_<port>
//   test_support::BackendProcess named({"--id", "b1"}); // extra flags
//   http_request(backend.port(), build_request("GET", "/"));
#pragma once

#include <string>
#include <vector>

#include "test/support/child_process.h"

namespace test_support {

// Path of a program built into ${CMAKE_BINARY_DIR}/bin, e.g. bin_path("load_balancer").
std::string bin_path(const std::string& program);

class BackendProcess {
 public:
  // Starts `backend_server 0 <extra_args...>` and waits for its listening line.
  // Throws std::runtime_error (with its output) if it does not come up.
  explicit BackendProcess(const std::vector<std::string>& extra_args = {});

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The server id from the listening line ("Server_on_Port_<port>" or --id).
  const std::string& id() const { return id_; }
  ChildProcess& process() { return process_; }

 private:
  ChildProcess process_;
  int port_;
  std::string id_;
};

}  // namespace test_support
