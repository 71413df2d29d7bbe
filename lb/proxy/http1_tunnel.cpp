// Http1Connection, part 3: the two-way byte tunnel (WebSocket) that a
// 101 Switching Protocols answer to an Upgrade request opens.
#include "lb/proxy/http1_connection.h"

#include <poll.h>

#include <cerrno>

namespace lb {

// After 101 Switching Protocols: copy bytes both ways until one side closes or
// the tunnel stays idle for --tunnel-idle-timeout; then both sides are closed.
void Http1Connection::tunnel(Stream& upstream, const char* upstream_bytes, size_t count) {
  // Bytes that arrived right behind either head already belong to the new protocol.
  const ProxySettings& settings = live_.value->proxy;
  if (count > 0 && !client_->write_all(upstream_bytes, count, settings.client_timeout)) return;
  if (client_begin_ < client_end_ &&
      !upstream.write_all(buffers_->client() + client_begin_, client_end_ - client_begin_,
                          settings.backend_timeout)) {
    return;
  }
  client_begin_ = client_end_ = 0;

  struct Direction {
    Stream& from;
    Stream& to;
    char* buffer;
  };
  Direction directions[2] = {{*client_, upstream, buffers_->client()}, {upstream, *client_, buffers_->upstream()}};
  for (;;) {
    struct pollfd fds[2] = {{client_->fd(), POLLIN, 0}, {upstream.fd(), POLLIN, 0}};
    // Bytes already inside OpenSSL do not make the socket readable: take them first.
    const bool buffered[2] = {client_->has_buffered_input(), upstream.has_buffered_input()};
    int wait_ms = buffered[0] || buffered[1] ? 0 : static_cast<int>(settings.tunnel_idle_timeout.count());
    int ready = ::poll(fds, 2, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || (ready == 0 && wait_ms != 0)) return;  // poll failure or idle timeout
    for (int i = 0; i < 2; ++i) {
      if (buffered[i]) fds[i].revents |= POLLIN;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      Direction& d = directions[i];
      ssize_t n = d.from.read(d.buffer, ConnectionBuffers::kBufferBytes, settings.client_timeout);
      if (n <= 0 || !d.to.write_all(d.buffer, static_cast<size_t>(n), settings.client_timeout)) return;
    }
  }
}

}  // namespace lb
