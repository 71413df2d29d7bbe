// TcpStream::idle_and_open, the check a pooled keep-alive connection passes
// before it carries another request, on a connected socket pair.
#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include "lb/transport/stream.h"

TEST_CASE("TCP stream: idle_and_open until the peer sends or closes", "[unit][stream]") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  lb::TcpStream ours(fds[0]);
  CHECK(ours.idle_and_open());

  REQUIRE(::write(fds[1], "x", 1) == 1);
  CHECK_FALSE(ours.idle_and_open());  // stray bytes: out of sync
  char byte = 0;
  CHECK(ours.read(&byte, 1, lb::Millis(1000)) == 1);  // the check consumed nothing
  CHECK(byte == 'x');
  CHECK(ours.idle_and_open());

  ::close(fds[1]);
  CHECK_FALSE(ours.idle_and_open());  // EOF: the peer closed
}
