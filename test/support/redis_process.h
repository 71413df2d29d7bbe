// A redis-server child process on a free loopback port, no persistence, for
// the shared rate limit tests. Debian's `redis-server` (scripts/deps.sh --test).
//
//   test_support::RedisProcess redis;
//   LoadBalancerProcess lb({...}, {"--rate-limit", "10", "--rate-limit-redis", redis.url()});
//   redis.stop(); ... redis.start();   // away and back, on the same port
#pragma once

#include <memory>
#include <string>

#include "test/support/child_process.h"

namespace test_support {

class RedisProcess {
 public:
  // Throws std::runtime_error if redis-server is missing or does not come up.
  RedisProcess();
  ~RedisProcess();

  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  void stop();   // SIGKILL, as a crash would
  void start();  // again, on the same port

  static bool installed();

 private:
  int port_;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace test_support
