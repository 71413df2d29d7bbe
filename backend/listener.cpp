#include "backend/listener.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace backend {

namespace {

constexpr std::size_t kMaxConnections = 1024;
constexpr std::chrono::milliseconds kDrainTimeout{10000};
// httplib routes with std::regex, whose matcher recurses once per character:
// "/.*" against an 8 KB path needs a few MB of stack.
constexpr std::size_t kStackBytes = 8 * 1024 * 1024;
// httplib listens with a backlog of 5, which drops SYNs when many clients
// (or a load balancer's pool) connect at once.
constexpr int kBacklog = 1024;

// Forwards to a queue that outlives httplib's ownership of this wrapper.
class SharedQueue : public httplib::TaskQueue {
 public:
  explicit SharedQueue(std::shared_ptr<common::ThreadPerConnectionQueue> queue)
      : queue_(std::move(queue)) {}
  void enqueue(std::function<void()> fn) override { queue_->enqueue(std::move(fn)); }
  void shutdown() override { queue_->shutdown(); }

 private:
  std::shared_ptr<common::ThreadPerConnectionQueue> queue_;
};

}  // namespace

std::string host_port(const std::string& host, int port) {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Listener::Listener()
    : queue_(std::make_shared<common::ThreadPerConnectionQueue>(kMaxConnections, kDrainTimeout,
                                                                kStackBytes)) {
  new_task_queue = [queue = queue_] { return new SharedQueue(queue); };
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which lets a second
  // process bind a port that is already in use without any error.
  set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Head and body go out in separate writes; without this Nagle's algorithm
  // and delayed ACKs can add 40 ms to keep-alive responses.
  set_tcp_nodelay(true);
  // httplib's default of 5 requests per connection makes a load balancer's
  // pooled upstream connections reconnect constantly; nginx allows 1000.
  set_keep_alive_max_count(1000);
  // A POST, PUT or PATCH with neither Content-Length nor Transfer-Encoding has
  // an empty body (RFC 9112 section 6.3), but httplib 0.11.4 reads it until the
  // connection closes, so `curl -X POST` waits 5 s for a 400. Saying so
  // explicitly lets it through at once. The Request is not really const: httplib
  // owns a mutable one and passes it here before reading any body.
  set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    bool expects_body = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (expects_body && !req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding")) {
      const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
}

std::string Listener::bind(const std::string& host, int port) {
  // Resolve first so a bad --host gets its own message (httplib only says "failed").
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  int gai = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (gai != 0) return "invalid --host '" + host + "': " + ::gai_strerror(gai);
  ::freeaddrinfo(found);

  errno = 0;
  bool ok = port == 0 ? bind_to_any_port(host) > 0 : bind_to_port(host, port);
  if (!ok) {
    int err = errno;
    return "cannot listen on " + host_port(host, port) + ": " +
           (err != 0 ? std::strerror(err) : "bind failed");
  }
  ::listen(svr_sock_, kBacklog);

  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(svr_sock_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return std::string("getsockname failed: ") + std::strerror(errno);
  }
  port_ = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return "";
}

void Listener::stop_listening() {
  // Same steps as httplib's stop(), minus its is_running() check: the accept
  // loop ends as soon as it sees INVALID_SOCKET, even if it has not begun yet.
  socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
  if (sock != INVALID_SOCKET) {
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }
}

}  // namespace backend
