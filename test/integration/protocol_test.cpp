// What real clients and backends send beyond plain requests: Upgrade tunnels,
// 100-continue, Via and Forwarded headers, IPv6.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <thread>

#include "test/support/backend_process.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/recording_backend.h"

using namespace test_support;
using namespace std::chrono_literals;

namespace {

// Reads exactly `n` bytes (bounded by the raw client's timeouts).
std::string read_exactly(int fd, size_t n) {
  std::string out;
  char buf[1024];
  while (out.size() < n) {
    ssize_t got = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

}  // namespace

// Via is added both ways; Forwarded (RFC 7239) is sent when asked, beside X-Forwarded-*.
TEST_CASE("Via and Forwarded headers", "[integration][protocol]") {
  RecordingBackend fake;
  LoadBalancerProcess lb({fake.url()}, {"--forwarded-headers", "both", "--via-name", "edge1"});
  RawResponse response = http_request(lb.port(), build_request("GET", "/", {{"Host", "shop.example"}}));
  CHECK(response.header("Via") == "1.1 edge1");
  std::string seen = fake.received();
  CHECK(seen.find("Via: 1.1 edge1\r\n") != std::string::npos);
  CHECK(seen.find("Forwarded: for=127.0.0.1;proto=http;host=\"shop.example\"\r\n") != std::string::npos);
  CHECK(seen.find("X-Forwarded-For: 127.0.0.1\r\n") != std::string::npos);

  RecordingBackend only_forwarded;
  LoadBalancerProcess lb2({only_forwarded.url()}, {"--forwarded-headers", "forwarded"});
  http_request(lb2.port(), build_request("GET", "/"));
  CHECK(only_forwarded.received().find("X-Forwarded-") == std::string::npos);
  CHECK(only_forwarded.received().find("Forwarded: for=127.0.0.1;proto=http") != std::string::npos);
}

// Upgrade + 101 turns the connection into a two-way tunnel; bytes flow both ways.
TEST_CASE("Upgrade requests become a tunnel after 101", "[integration][protocol]") {
  RecordingBackend upgrader(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  upgrader.echo_after_response();
  LoadBalancerProcess lb({upgrader.url()});
  ScopedFd fd(connect_to(lb.port()));
  send_all(fd.get(), "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  RawResponse switched = read_response(fd.get());
  REQUIRE(switched.status == 101);
  CHECK(switched.header("Upgrade") == "websocket");
  CHECK(switched.header("Connection") == "Upgrade");
  CHECK(switched.header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  std::string seen = upgrader.received();
  CHECK(seen.find("Upgrade: websocket\r\n") != std::string::npos);
  CHECK(seen.find("Connection: Upgrade\r\n") != std::string::npos);

  for (std::string message : {std::string("hello"), std::string(50000, 'x'), std::string("\x81\x05world")}) {
    send_all(fd.get(), message);
    CHECK(read_exactly(fd.get(), message.size()) == message);
  }
  ::shutdown(fd.get(), SHUT_WR);  // client ends: the tunnel closes both sides
  CHECK(read_until_close(fd.get(), 5s).empty());
}

// A backend that declines the upgrade gets ordinary handling; the connection stays usable.
TEST_CASE("Upgrade declined with 200 is a normal response", "[integration][protocol]") {
  RecordingBackend plain;
  LoadBalancerProcess lb({plain.url()});
  ScopedFd fd(connect_to(lb.port()));
  send_all(fd.get(), "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  CHECK(read_response(fd.get()).status == 200);
  send_all(fd.get(), build_request("GET", "/again"));
  CHECK(read_response(fd.get()).status == 200);
}

// Expect: 100-continue is answered at once, so curl-style uploads do not stall.
TEST_CASE("Expect: 100-continue", "[integration][protocol]") {
  BackendProcess backend;
  LoadBalancerProcess lb({backend.url()});
  ScopedFd fd(connect_to(lb.port()));
  send_all(fd.get(), "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  RawResponse interim = read_response(fd.get(), 2s);
  CHECK(interim.status == 100);
  send_all(fd.get(), "hello");
  RawResponse final_response = read_response(fd.get());
  CHECK(final_response.status == 200);
  CHECK(final_response.body.find("\"your_data\":\"hello\"") != std::string::npos);
}

// An over-size body announced with Expect: 100-continue gets 413 instead of 100,
// and the connection is closed so the unsent body is never read as a request.
TEST_CASE("Expect: 100-continue refused with 413", "[integration][protocol]") {
  RecordingBackend fake;
  LoadBalancerProcess lb({fake.url()}, {"--max-body-size", "10"});
  ScopedFd fd(connect_to(lb.port()));
  send_all(fd.get(), "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n");
  RawResponse refused = read_response(fd.get(), 2s);
  CHECK(refused.status == 413);
  CHECK(refused.header("Connection") == "close");
  CHECK(fake.requests() == 0);
}

// IPv6: a listener on ::1 in front of a backend at http://[::1]:PORT.
TEST_CASE("IPv6 listener and backend", "[integration][protocol]") {
  BackendProcess backend({"--host", "::1"});
  LoadBalancerProcess lb({"http://[::1]:" + std::to_string(backend.port())}, {"--bind", "::1"});
  ScopedFd fd(connect_to("::1", lb.port()));
  send_all(fd.get(), build_request("GET", "/"));
  RawResponse response = read_response(fd.get());
  CHECK(response.status == 200);
  CHECK(response.body.find("\"X-Forwarded-For\":\"::1\"") != std::string::npos);
}
