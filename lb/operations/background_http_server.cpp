#include "lb/operations/background_http_server.h"

namespace lb {

BackgroundHttpServer::~BackgroundHttpServer() { stop(); }

int BackgroundHttpServer::start(const std::string& address, int port, std::string& error, int inherited_fd) {
  error = inherited_fd >= 0 ? server_.adopt(inherited_fd) : server_.bind(address, port);
  if (!error.empty()) return -1;
  thread_ = std::thread([this] { server_.serve(); });
  return server_.port();
}

void BackgroundHttpServer::stop() {
  server_.stop_listening();
  if (thread_.joinable()) thread_.join();
}

}  // namespace lb
