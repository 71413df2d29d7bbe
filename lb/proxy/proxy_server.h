// The listening side: the common accept loop (common/http_listener.h) with
// the thread-per-connection task queue; it hands every accepted socket to a
// Http1Connection instead of httplib's own request handling (which rewrites
// header bytes: README "Architecture").
#pragma once

#include <memory>
#include <string>

#include "common/http_listener.h"
#include "lb/proxy/proxy_context.h"
#include "lb/transport/tls_context.h"

namespace lb {

class ProxyServer : public common::HttpListener {
 public:
  // HTTPS when the live settings have a TLS context (a reload may swap it:
  // each connection handshakes with the one in force when it was accepted).
  ProxyServer(ProxyContext& context, std::size_t max_connections, Millis drain_timeout);
  ~ProxyServer() override;

  // Stops accepting, closes idle keep-alive connections, lets busy ones finish.
  // Safe at any time: a stop that comes before serve() makes serve() return at once.
  void shutdown();
  // The same once a new process listens on the same socket (a binary upgrade):
  // the socket is left open for it (common/http_listener.h hand_over()).
  void hand_over();

 private:
  bool process_and_close_socket(socket_t sock) override;  // PROXY header, TLS handshake, then serve_client()
  void serve_client(std::unique_ptr<Stream> client, const LiveSettings& live, bool tls, std::string client_ip,
                    bool refuse_proxy_header);

  ProxyContext& context_;
  std::unique_ptr<httplib::TaskQueue> stream_workers_;  // HTTP/2 streams' worker threads
};

}  // namespace lb
