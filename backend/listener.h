// The backend's HTTP server: the common accept loop (common/http_listener.h:
// a busy port is an error, a backlog that absorbs bursts, a stop that is never
// lost) with a thread per connection and a WebSocket echo on /ws (see
// websocket_echo.h).
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "common/http_listener.h"
#include "common/thread_per_connection_queue.h"

namespace backend {

class Listener : public common::HttpListener {
 public:
  Listener();

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
};

}  // namespace backend
