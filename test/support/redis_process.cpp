#include "test/support/redis_process.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace test_support {

namespace {

constexpr char kRedisServer[] = "/usr/bin/redis-server";

// A port the kernel just handed out and released: free, barring a race.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free port for redis-server");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

bool RedisProcess::installed() { return ::access(kRedisServer, X_OK) == 0; }

RedisProcess::RedisProcess() : port_(free_port()) { start(); }

RedisProcess::~RedisProcess() { stop(); }

void RedisProcess::start() {
  process_ = std::make_unique<ChildProcess>(
      kRedisServer, std::vector<std::string>{"--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                                             "--appendonly", "no", "--protected-mode", "no"});
  if (!process_->wait_for_line("Ready to accept connections", std::chrono::seconds(10))) {
    throw std::runtime_error("redis-server did not start:\n" + process_->output());
  }
}

void RedisProcess::stop() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait_exit(std::chrono::seconds(5));
  process_.reset();
}

}  // namespace test_support
