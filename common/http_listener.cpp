#include "common/http_listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace common {

std::string host_port(const std::string& host, int port) {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

HttpListener::HttpListener() {
  set_socket_options([](socket_t sock) {
    int one = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  });
  // The accept loop waits in poll(), never in accept() (the socket is
  // non-blocking), and looks at svr_sock_ at least this often: a socket
  // shared with another process (hand_over()) can be let go without
  // shutdown(), and a connection that process took first only costs an EAGAIN.
  set_idle_interval(0, kAcceptPollMicros);
}

std::string HttpListener::bind(const std::string& host, int port, int backlog) {
  // Resolve first so a bad address gets its own message (httplib only says "failed").
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  int gai = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (gai != 0) return "invalid address '" + host + "': " + ::gai_strerror(gai);
  ::freeaddrinfo(found);

  errno = 0;
  bool ok = port == 0 ? bind_to_any_port(host) > 0 : bind_to_port(host, port);
  if (!ok) {
    int err = errno;
    return "cannot listen on " + host_port(host, port) + ": " + (err != 0 ? std::strerror(err) : "bind failed");
  }
  ::listen(svr_sock_, backlog);
  ::fcntl(svr_sock_, F_SETFL, ::fcntl(svr_sock_, F_GETFL) | O_NONBLOCK);
  return read_port();
}

std::string HttpListener::adopt(int fd) {
  int listening = 0;
  socklen_t size = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || listening == 0) {
    return "inherited descriptor " + std::to_string(fd) + " is not a listening socket";
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  svr_sock_ = fd;
  return read_port();
}

std::string HttpListener::read_port() {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(svr_sock_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return std::string("getsockname failed: ") + std::strerror(errno);
  }
  port_ = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return "";
}

void HttpListener::hand_over() {
  // The accept loop looks at svr_sock_ again within the idle interval.
  socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
  if (sock != INVALID_SOCKET) ::close(sock);
}

void HttpListener::stop_listening() {
  // httplib's stop() minus its is_running() check: the accept loop ends as
  // soon as it sees INVALID_SOCKET, even if it has not begun yet.
  socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
  if (sock != INVALID_SOCKET) {
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }
}

}  // namespace common
