// The accept loop, and the one way to stop it, for every server in both
// programs: the load balancer's listener, its admin and redirect servers, and
// backend_server.
//
// It is cpp-httplib's own accept loop (listen_after_bind()) with two changes:
// the port is exclusive (SO_REUSEADDR only: httplib's default adds
// SO_REUSEPORT, which lets a second process bind a busy port silently), and the
// backlog is large (httplib's 5 drops SYNs when many clients connect at once,
// each drop costing the client a 1 s retransmit).
//
// Stopping: httplib's stop() does nothing until the loop has set is_running(),
// so a SIGTERM that arrives between bind() and the loop's first accept would be
// lost, and the process would listen forever. stop_listening() closes the
// listening socket whatever the loop is doing; the loop, running or not yet
// begun, sees no socket and returns (test/integration/stop_signals_test.cpp).
#pragma once

#include <httplib.h>

#include <string>

namespace common {

// "host:port", with IPv6 addresses in brackets: "[::1]:8001".
std::string host_port(const std::string& host, int port);

class HttpListener : public httplib::Server {
 public:
  static constexpr int kDefaultBacklog = 4096;
  static constexpr long kAcceptPollMicros = 100000;

  HttpListener();

  // Binds host:port (port 0: any free port). Returns "" on success, otherwise
  // a one-line reason, e.g. "cannot listen on 0.0.0.0:8001: Address already in use".
  std::string bind(const std::string& host, int port, int backlog = kDefaultBacklog);

  // The bound port (the real one when 0 was asked for); valid after bind().
  int port() const { return port_; }

  // Listens on a socket this process inherited (a binary upgrade or systemd
  // socket activation: lb/operations/inherited_listeners.h) instead of
  // binding. Returns "" or a one-line reason (not a listening TCP socket).
  std::string adopt(int fd);

  // The listening socket (-1 once stopped): a binary upgrade passes it on.
  int listening_socket() const { return svr_sock_; }

  // Accepts until stop_listening(), then waits for the task queue to drain.
  // Returns at once when stop_listening() came first.
  bool serve() { return listen_after_bind(); }

  // Closes the listening socket: serve() returns once in-flight connections
  // drain. Safe from any thread, at any time, any number of times.
  void stop_listening();

  // The same, for a socket another process listens on too (a binary upgrade
  // handed it over): shutdown() would stop that process's accepts as well, so
  // the socket is only closed here; serve() notices within kAcceptPollMicros.
  void hand_over();

  // True once stop_listening() has been called: connection loops use it to
  // end idle keep-alive connections at shutdown.
  bool stopping() const { return svr_sock_ == INVALID_SOCKET; }

 private:
  // Reads the bound port of svr_sock_ into port_; "" or a reason.
  std::string read_port();

  int port_ = -1;
};

}  // namespace common
