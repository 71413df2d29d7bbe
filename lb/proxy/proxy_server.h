// The listening side: a cpp-httplib Server that owns the listening socket and
// the thread-per-connection task queue, and hands every accepted socket to a
// ProxyConnection instead of httplib's own request handling (which rewrites
// header bytes: see shared/DESIGN.md).
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "lb/proxy/proxy_context.h"
#include "lb/transport/tls_context.h"

namespace lb {

class ProxyServer : public httplib::Server {
 public:
  // HTTPS when the live settings have a TLS context (a reload may swap it:
  // each connection handshakes with the one in force when it was accepted).
  ProxyServer(ProxyContext& context, std::size_t max_connections, Millis drain_timeout);
  ~ProxyServer() override;

  // Binds `address:port` (port 0: any free port) with a large listen backlog.
  // Returns the bound port, or -1 with `error` set.
  int open(const std::string& address, int port, std::string& error);

  // Accepts and serves until shutdown(); returns after draining (bounded).
  void run();

  // Stops accepting, closes idle keep-alive connections, lets busy ones finish.
  void shutdown();

 private:
  bool process_and_close_socket(socket_t sock) override;

  ProxyContext& context_;
  std::unique_ptr<httplib::TaskQueue> stream_workers_;  // HTTP/2 streams' worker threads
};

}  // namespace lb
