// IdleConnections: idle keep-alive connections to one backend, on socket pairs
// standing in for backend connections (the far end plays the backend).
#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>

#include "lb/transport/stream.h"
#include "lb/transport/idle_connections.h"

using namespace std::chrono_literals;

namespace {

// One connection: ours as a Stream, the backend's end as a plain fd.
struct Connection {
  std::unique_ptr<lb::Stream> ours;
  int backend_end = -1;
  int our_fd = -1;

  Connection() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    ours = std::make_unique<lb::TcpStream>(fds[0]);
    our_fd = fds[0];
    backend_end = fds[1];
  }
  ~Connection() { ::close(backend_end); }

  // True once our side has been closed: the backend end reads EOF, or a reset
  // when bytes it sent were still unread on our side.
  bool closed_by_pool() const {
    char byte;
    ssize_t n = ::recv(backend_end, &byte, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }
};

}  // namespace

TEST_CASE("upstream pool: the most recent idle connection is reused first", "[unit][pool]") {
  lb::IdleConnections pool(8, 60s);
  CHECK(pool.acquire() == nullptr);
  Connection a, b;
  pool.release(std::move(a.ours));
  pool.release(std::move(b.ours));
  auto first = pool.acquire();
  REQUIRE(first);
  CHECK(first->fd() == b.our_fd);
  auto second = pool.acquire();
  REQUIRE(second);
  CHECK(second->fd() == a.our_fd);
  CHECK(pool.acquire() == nullptr);
}

TEST_CASE("upstream pool: connections the backend closed or wrote on are dropped", "[unit][pool]") {
  lb::IdleConnections pool(8, 60s);
  Connection alive, closed, out_of_sync;
  pool.release(std::move(alive.ours));
  pool.release(std::move(closed.ours));
  pool.release(std::move(out_of_sync.ours));
  ::shutdown(closed.backend_end, SHUT_WR);               // the backend closed it (keepalive_requests)
  REQUIRE(::write(out_of_sync.backend_end, "H", 1) == 1);  // bytes nobody asked for

  auto got = pool.acquire();
  REQUIRE(got);
  CHECK(got->fd() == alive.our_fd);
  CHECK(closed.closed_by_pool());
  CHECK(out_of_sync.closed_by_pool());
  CHECK(pool.acquire() == nullptr);
}

TEST_CASE("upstream pool: beyond max_idle the oldest is closed, 0 pools nothing", "[unit][pool]") {
  lb::IdleConnections pool(1, 60s);
  Connection older, newer;
  pool.release(std::move(older.ours));
  pool.release(std::move(newer.ours));
  CHECK(older.closed_by_pool());
  auto got = pool.acquire();
  REQUIRE(got);
  CHECK(got->fd() == newer.our_fd);

  lb::IdleConnections none(0, 60s);
  Connection c;
  none.release(std::move(c.ours));
  CHECK(c.closed_by_pool());
  CHECK(none.acquire() == nullptr);
}

TEST_CASE("upstream pool: clear() closes every idle connection", "[unit][pool]") {
  lb::IdleConnections pool(8, 60s);
  Connection a, b;
  pool.release(std::move(a.ours));
  pool.release(std::move(b.ours));
  pool.clear();
  CHECK(a.closed_by_pool());
  CHECK(b.closed_by_pool());
  CHECK(pool.acquire() == nullptr);
}
