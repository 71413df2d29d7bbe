// The backend's HTTP server: cpp-httplib with a thread per connection, a
// strict bind (a busy port is an error), a listen backlog that absorbs bursts,
// and a WebSocket echo on /ws (see websocket_echo.h).
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "common/thread_per_connection_queue.h"

namespace backend {

// "host:port", with IPv6 addresses in brackets: "[::1]:8001".
std::string host_port(const std::string& host, int port);

class Listener : public httplib::Server {
 public:
  Listener();

  // Binds host:port (port 0: any free port). Returns "" on success, otherwise a
  // one-line description of the problem, e.g. "cannot listen on 0.0.0.0:8001:
  // Address already in use".
  std::string bind(const std::string& host, int port);

  // The bound port (the real one when 0 was asked for); valid after bind().
  int port() const { return port_; }

  // Closes the listening socket so listen_after_bind() returns once in-flight
  // connections drain. Safe from any thread, even before listen_after_bind()
  // has started (httplib's stop() is a no-op then, which would lose the request).
  void stop_listening();

  // True when connections were still open after the drain timeout.
  bool drain_timed_out() const { return queue_->drain_timed_out(); }

 private:
  // Serves one accepted connection, replacing httplib's own loop: requests go
  // to httplib's process_request() one after another (keep-alive), except that
  // a WebSocket handshake for /ws hands the socket to websocket::serve_echo().
  // httplib 0.11.4 declares this private virtual: it can be overridden, but the
  // base version cannot be called, so this does its whole job.
  bool process_and_close_socket(socket_t sock) override;

  // Owned here, not by httplib, so drain_timed_out() can be asked after
  // listen_after_bind() returns (httplib deletes the queue it is given).
  std::shared_ptr<common::ThreadPerConnectionQueue> queue_;
  int port_ = -1;
};

}  // namespace backend
