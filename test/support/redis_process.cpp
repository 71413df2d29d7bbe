#include "test/support/redis_process.h"

#include <signal.h>
#include <unistd.h>

#include <stdexcept>

#include "test/support/free_port.h"

namespace test_support {

namespace {

constexpr char kRedisServer[] = "/usr/bin/redis-server";

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
