// test_support's raw HTTP client, fed hand-written responses over a socketpair.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "test/support/raw_http.h"

using namespace std::chrono_literals;
using test_support::RawHttpError;
using test_support::RawResponse;
using test_support::read_response;
using test_support::ScopedFd;
using test_support::send_all;

namespace {

// A connected pair: the test writes "server" bytes into one end, reads the other.
struct Pipe {
  ScopedFd client;
  ScopedFd server;
  Pipe() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    client.reset(fds[0]);
    server.reset(fds[1]);
  }
};

RawHttpError::Kind error_kind(int fd, std::chrono::milliseconds timeout = 2s) {
  try {
    read_response(fd, timeout);
  } catch (const RawHttpError& e) {
    return e.kind();
  }
  FAIL("no RawHttpError");
  return RawHttpError::Kind::kIo;
}

}  // namespace

// Headers keep order, duplicates and exact bytes; the body stops at Content-Length
// and the next pipelined response stays on the socket.
TEST_CASE("raw_http: Content-Length responses, exact headers, pipelining", "[support]") {
  Pipe p;
  const std::string first =
      "HTTP/1.1 200 OK\r\nSet-Cookie: a=s%3Ab\r\nX-Y:  spaced  \r\nset-cookie: c=d\r\n"
      "Content-Length: 5\r\n\r\nhello";
  send_all(p.server.get(), first + "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno");
  RawResponse res = read_response(p.client.get(), 2s);
  CHECK(res.version == "HTTP/1.1");
  CHECK(res.status == 200);
  CHECK(res.reason == "OK");
  CHECK(res.head == first.substr(0, first.size() - 5));
  CHECK(res.headers == test_support::HeaderList{{"Set-Cookie", "a=s%3Ab"},
                                                {"X-Y", "spaced"},
                                                {"set-cookie", "c=d"},
                                                {"Content-Length", "5"}});
  CHECK(res.headers_named("SET-COOKIE") == std::vector<std::string>{"a=s%3Ab", "c=d"});
  CHECK(res.header("x-y") == "spaced");
  CHECK_FALSE(res.header("Missing"));
  CHECK(res.body == "hello");

  RawResponse second = read_response(p.client.get(), 2s);
  CHECK(second.status == 404);
  CHECK(second.reason == "Not Found");
  CHECK(second.body == "no");
}

// Chunked bodies are decoded, with extensions and trailers, even when they arrive byte by byte.
TEST_CASE("raw_http: chunked bodies", "[support]") {
  Pipe p;
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n"
      "HTTP/1.1 204 No Content\r\n\r\n";
  std::thread writer([&] {
    for (char c : wire) {
      send_all(p.server.get(), std::string(1, c));
      if (c == '\n') std::this_thread::sleep_for(1ms);
    }
  });
  RawResponse res = read_response(p.client.get(), 10s);
  CHECK(res.chunked);
  CHECK(res.body == "helloabcdefghijklmnopqrstuvwxyz");
  CHECK(res.trailers == test_support::HeaderList{{"X-Trailer", "t"}});
  CHECK(read_response(p.client.get(), 10s).status == 204);
  writer.join();
}

// Without Content-Length or chunking the body runs to the close; HEAD, 1xx, 204 and 304 have none.
TEST_CASE("raw_http: bodies framed by close, and responses without bodies", "[support]") {
  {
    Pipe p;
    send_all(p.server.get(), "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of it");
    p.server.reset();
    RawResponse res = read_response(p.client.get(), 2s);
    CHECK(res.until_close);
    CHECK(res.body == "all of it");
  }
  {
    Pipe p;
    send_all(p.server.get(),
             "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
             "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    CHECK(read_response(p.client.get(), 2s, /*head_request=*/true).body.empty());
    CHECK(read_response(p.client.get(), 2s).status == 100);
    CHECK(read_response(p.client.get(), 2s).status == 304);
    CHECK(read_response(p.client.get(), 2s).body == "ok");
  }
}

// Every failure is a RawHttpError of the right kind, within its timeout.
TEST_CASE("raw_http: errors and timeouts", "[support]") {
  {
    Pipe p;
    auto start = std::chrono::steady_clock::now();
    CHECK(error_kind(p.client.get(), 200ms) == RawHttpError::Kind::kTimeout);
    CHECK(std::chrono::steady_clock::now() - start < 2s);
  }
  {
    Pipe p;
    p.server.reset();
    CHECK(error_kind(p.client.get()) == RawHttpError::Kind::kClosed);
  }
  {
    Pipe p;
    send_all(p.server.get(), "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
    p.server.reset();
    CHECK(error_kind(p.client.get()) == RawHttpError::Kind::kTruncated);
  }
  for (std::string bad : {"garbage\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    INFO(bad);
    Pipe p;
    send_all(p.server.get(), bad);
    CHECK(error_kind(p.client.get()) == RawHttpError::Kind::kMalformed);
  }
}

// read_until_close returns what came before the close, and times out on an open connection.
TEST_CASE("raw_http: read_until_close", "[support]") {
  Pipe p;
  CHECK_THROWS_AS(test_support::read_until_close(p.client.get(), 100ms), RawHttpError);
  send_all(p.server.get(), "bye");
  p.server.reset();
  CHECK(test_support::read_until_close(p.client.get(), 2s) == "bye");
}

// connect_to reports a refused connection as an error.
TEST_CASE("raw_http: connect_to a closed port throws", "[support]") {
  // Bind without listening: the port is ours and refuses connections.
  ScopedFd holder(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(holder.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(holder.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  CHECK_THROWS_AS(test_support::connect_to(ntohs(addr.sin_port)), RawHttpError);
}

// build_request writes Host first and adds Content-Length for bodies.
TEST_CASE("raw_http: build_request", "[support]") {
  CHECK(test_support::build_request("GET", "/a?b") == "GET /a?b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  CHECK(test_support::build_request("POST", "/p", {{"X-A", "1"}}, "hi") ==
        "POST /p HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi");
  CHECK(test_support::build_request("POST", "/p", {{"Host", "h"}}) ==
        "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  CHECK(test_support::build_request("POST", "/p", {{"Transfer-Encoding", "chunked"}},
                                    "0\r\n\r\n") ==
        "POST /p HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
}
