#include "backend/listener.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <utility>

#include "backend/reply.h"
#include "backend/websocket_echo.h"

namespace backend {

namespace {

constexpr std::size_t kMaxConnections = 1024;
constexpr std::chrono::milliseconds kDrainTimeout{10000};
// httplib routes with std::regex, whose matcher recurses once per character:
// "/.*" against an 8 KB path needs a few MB of stack.
constexpr std::size_t kStackBytes = 8 * 1024 * 1024;
// The WebSocket echo endpoint, and how much of a request head is read ahead to
// recognise its handshake: a browser's handshake carries its cookies, so allow
// far more than any sends. Only heads that start "GET /ws" are read that far.
constexpr std::string_view kWebSocketPath = "/ws";
constexpr std::size_t kMaxPeekedHead = 64 * 1024;
// How often an idle keep-alive connection checks for shutdown.
constexpr std::chrono::milliseconds kStopCheck{100};

using Clock = std::chrono::steady_clock;

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

// Waits up to `timeout` for `events` on `sock`; hang-ups and errors count as
// ready, so the following recv/send reports them.
bool wait_for(socket_t sock, short events, std::chrono::milliseconds timeout) {
  pollfd p{sock, events, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  return ready > 0;
}

std::chrono::milliseconds to_ms(time_t sec, time_t usec) {
  return std::chrono::milliseconds(sec * 1000 + usec / 1000);
}

void ip_and_port(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, service,
                    sizeof service, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(service);
  }
}

// httplib's Stream over one accepted socket, like httplib's SocketStream
// (poll-based timeouts, reads ahead into a buffer) but kept for the whole
// connection: bytes read ahead, such as the head peeked at before each request,
// stay available to whoever reads next instead of being lost with the stream.
class ConnectionStream : public httplib::Stream {
 public:
  ConnectionStream(socket_t sock, std::chrono::milliseconds read_timeout,
                   std::chrono::milliseconds write_timeout)
      : sock_(sock), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

  bool is_readable() const override {
    return buffered() > 0 || wait_for(sock_, POLLIN, read_timeout_);
  }
  bool is_writable() const override { return wait_for(sock_, POLLOUT, write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (buffered() == 0) {
      if (!wait_for(sock_, POLLIN, read_timeout_)) return -1;
      // Large reads (bodies) go straight to the caller; small ones (httplib
      // reads heads a byte at a time) are served from the buffer.
      if (size >= kChunk) return recv_some(ptr, size);
      if (fill() <= 0) return -1;
    }
    size_t count = std::min(size, buffered());
    std::memcpy(ptr, buffer_.data() + offset_, count);
    offset_ += count;
    return static_cast<ssize_t>(count);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    return ::send(sock_, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  using httplib::Stream::write;

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      ip_and_port(addr, len, ip, port);
    }
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      ip_and_port(addr, len, ip, port);
    }
  }
  socket_t socket() const override { return sock_; }

  size_t buffered() const { return buffer_.size() - offset_; }

  // Reads ahead until the buffer holds a whole request head, or `limit` bytes,
  // or the bytes so far show `looks_like` is false, or the read timeout passes.
  // Returns the head ("\r\n\r\n" included), or "" if there is none (yet).
  // Nothing is consumed: the next read() still starts at the head.
  std::string_view peek_head(size_t limit, bool (*looks_like)(std::string_view)) {
    auto deadline = Clock::now() + read_timeout_;
    for (;;) {
      std::string_view bytes(buffer_.data() + offset_, buffered());
      size_t end = bytes.find("\r\n\r\n");
      if (end != std::string_view::npos) return bytes.substr(0, end + 4);
      if (bytes.size() >= limit || !looks_like(bytes)) return {};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0 || !wait_for(sock_, POLLIN, left) || fill() <= 0) return {};
    }
  }

  // Removes and returns every buffered byte after the first `skip`.
  std::string take_buffered(size_t skip) {
    std::string rest = buffer_.substr(offset_ + skip);
    buffer_.clear();
    offset_ = 0;
    return rest;
  }

 private:
  static constexpr size_t kChunk = 16 * 1024;

  // Appends what one recv() returns to the buffer, first dropping consumed bytes.
  ssize_t fill() {
    buffer_.erase(0, offset_);
    offset_ = 0;
    size_t old_size = buffer_.size();
    buffer_.resize(old_size + kChunk);
    ssize_t got = recv_some(&buffer_[old_size], kChunk);
    buffer_.resize(old_size + static_cast<size_t>(std::max<ssize_t>(got, 0)));
    return got;
  }

  // One recv() that does not block (callers poll first) and retries on EINTR.
  ssize_t recv_some(char* ptr, size_t size) {
    ssize_t got;
    do {
      got = ::recv(sock_, ptr, size, MSG_DONTWAIT);
    } while (got < 0 && errno == EINTR);
    return got;
  }

  socket_t sock_;
  std::chrono::milliseconds read_timeout_;
  std::chrono::milliseconds write_timeout_;
  std::string buffer_;  // read from the socket; bytes before offset_ are consumed
  size_t offset_ = 0;
};

// False once `bytes`, the start of a request, cannot be "GET /ws " or "GET /ws?...",
// so ordinary requests are handed to httplib without waiting for their whole head.
bool may_be_websocket_request(std::string_view bytes) {
  std::string prefix = "GET " + std::string(kWebSocketPath);
  if (bytes.size() <= prefix.size()) return prefix.compare(0, bytes.size(), bytes) == 0;
  return bytes.compare(0, prefix.size(), prefix) == 0 &&
         (bytes[prefix.size()] == ' ' || bytes[prefix.size()] == '?');
}

// Waits, between requests, until the next one starts arriving (or the client
// closes). False when `idle_timeout` passes first or `stopping()` turns true:
// at shutdown idle connections end within kStopCheck instead of lingering.
template <typename StopFn>
bool wait_for_request(const ConnectionStream& strm, std::chrono::milliseconds idle_timeout,
                      const StopFn& stopping) {
  auto deadline = Clock::now() + idle_timeout;
  while (strm.buffered() == 0) {
    if (wait_for(strm.socket(), POLLIN, kStopCheck)) return true;
    if (stopping() || Clock::now() >= deadline) return false;
  }
  return true;
}

}  // namespace

Listener::Listener()
    : queue_(std::make_shared<common::ThreadPerConnectionQueue>(kMaxConnections, kDrainTimeout,
                                                                kStackBytes)) {
  new_task_queue = [queue = queue_] { return new SharedQueue(queue); };
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
  // Handshakes for /ws never reach httplib (see process_and_close_socket());
  // a GET /ws without the upgrade headers lands here. Added first, so it wins
  // over every route added later.
  Get(std::string(kWebSocketPath), [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Upgrade", "websocket");
    res.set_header("Sec-WebSocket-Version", "13");
    reply_json(res, 426,
               {{"error", "upgrade required"},
                {"message", "/ws is a WebSocket echo: send GET /ws over HTTP/1.1 with "
                            "Upgrade: websocket, Connection: Upgrade, "
                            "Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key"}});
  });
}

bool Listener::process_and_close_socket(socket_t sock) {
  ConnectionStream strm(sock, to_ms(read_timeout_sec_, read_timeout_usec_),
                        to_ms(write_timeout_sec_, write_timeout_usec_));
  auto stopping = [this] { return this->stopping(); };
  bool ok = false;
  for (size_t left = keep_alive_max_count_; left > 0 && !stopping(); --left) {
    if (!wait_for_request(strm, std::chrono::seconds(keep_alive_timeout_sec_), stopping)) break;

    std::string_view head = strm.peek_head(kMaxPeekedHead, may_be_websocket_request);
    if (auto key = websocket::upgrade_key(head, kWebSocketPath)) {
      std::string rest = strm.take_buffered(head.size());
      websocket::serve_echo(sock, *key, std::move(rest), websocket::EchoOptions{}, stopping);
      ok = true;
      break;
    }
    // Everything else, a /ws without proper upgrade headers included, is
    // plain HTTP: exactly what httplib's own loop would do with it.
    bool connection_closed = false;
    ok = process_request(strm, left == 1, connection_closed, [](httplib::Request&) {});
    if (!ok || connection_closed) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace backend
