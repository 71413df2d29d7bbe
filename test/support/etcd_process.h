// A one-member etcd (Debian's etcd-server, /usr/bin/etcd) on free loopback
// ports with a private data folder, for the --config-etcd tests.
//
//   test_support::EtcdProcess etcd;
//   etcd.put("/cpp-lb/config", R"({"backends": ["http://127.0.0.1:8001"]})");
//   etcd.stop(); ... etcd.start();   // away and back: same ports, same data
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "test/support/child_process.h"

namespace test_support {

class EtcdProcess {
 public:
  // Throws std::runtime_error if etcd is missing or does not come up.
  EtcdProcess();
  ~EtcdProcess();

  std::string url() const { return "http://127.0.0.1:" + std::to_string(client_port_); }
  void stop();   // SIGKILL, as a crash would
  void start();  // again, on the same ports and data

  // Through the v3 JSON gateway; returns the revision the put made. Throws std::runtime_error.
  int64_t put(const std::string& key, const std::string& value);
  // The revision of the key's latest put (0: absent).
  int64_t mod_revision(const std::string& key);

  static bool installed();

 private:
  std::string data_dir_;
  int client_port_;
  int peer_port_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace test_support
