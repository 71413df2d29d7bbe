// A small cpp-httplib server running on its own thread: the admin API and the
// HTTP-to-HTTPS redirect listener use it.
#pragma once

#include <string>
#include <thread>

#include "common/http_listener.h"

namespace lb {

class BackgroundHttpServer {
 public:
  BackgroundHttpServer() = default;
  ~BackgroundHttpServer();

  httplib::Server& server() { return server_; }
  // Binds address:port (0: a free port), or listens on `inherited_fd` when it
  // is one (lb/operations/inherited_descriptors.h), and serves on a
  // background thread. Returns the bound port, or -1 with `error` set.
  int start(const std::string& address, int port, std::string& error, int inherited_fd = -1);
  // Stops accepting and waits for the thread; safe at any time (common/http_listener.h).
  void stop();
  // A binary upgrade: the listening socket, and no more accepts on it here.
  int listening_socket() const { return server_.listening_socket(); }
  void hand_over() { server_.hand_over(); }

 private:
  common::HttpListener server_;
  std::thread thread_;
};

}  // namespace lb
