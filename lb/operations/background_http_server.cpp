#include "lb/operations/background_http_server.h"

#include <httplib.h>
#include <sys/socket.h>

namespace lb {

void use_exclusive_port(httplib::Server& server) {
  server.set_socket_options([](socket_t sock) {
    int one = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  });
}

int bind_server(httplib::Server& server, const std::string& address, int port, std::string& error) {
  int bound = port == 0 ? server.bind_to_any_port(address) : (server.bind_to_port(address, port) ? port : -1);
  if (bound <= 0) {
    error = "cannot listen on " + address + ":" + std::to_string(port) + " (address in use or not available)";
    return -1;
  }
  return bound;
}

BackgroundHttpServer::BackgroundHttpServer() : server_(std::make_unique<httplib::Server>()) {
  use_exclusive_port(*server_);
}

BackgroundHttpServer::~BackgroundHttpServer() { stop(); }

int BackgroundHttpServer::start(const std::string& address, int port, std::string& error) {
  int bound = bind_server(*server_, address, port, error);
  if (bound < 0) return -1;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return bound;
}

void BackgroundHttpServer::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace lb
