// Type=notify: the load balancer tells systemd (the unix datagram socket in
// $NOTIFY_SOCKET) when it is ready, reloading and stopping. Here the test
// plays systemd's part.
#include <catch2/catch.hpp>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "test/support/backend_process.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"

using namespace test_support;
using namespace std::chrono_literals;

namespace {

// A bound datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  NotifySocket() : path_("/tmp/lb_notify_" + std::to_string(::getpid()) + ".sock") {
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un address {};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<struct sockaddr*>(&address), sizeof address) == 0);
    struct timeval timeout {10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  // The next message ("" after 10 s without one).
  std::string next() {
    char buffer[512];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_;
};

}  // namespace

TEST_CASE("READY, RELOADING and STOPPING reach $NOTIFY_SOCKET", "[integration][systemd]") {
  BackendProcess backend;
  NotifySocket systemd;
  ::setenv("NOTIFY_SOCKET", systemd.path().c_str(), 1);  // the child inherits it
  LoadBalancerProcess lb({backend.url()});
  ::unsetenv("NOTIFY_SOCKET");
  CHECK(systemd.next() == "READY=1");
  CHECK(http_request(lb.port(), build_request("GET", "/")).status == 200);  // ready meant serving

  REQUIRE(lb.process().signal(SIGHUP));
  CHECK(systemd.next() == "RELOADING=1");
  CHECK(systemd.next() == "READY=1");
  REQUIRE(lb.process().signal(SIGTERM));
  CHECK(systemd.next() == "STOPPING=1");
  CHECK(lb.process().wait_exit(10s) == 0);
}
