// TlsStream I/O after the handshake: echo both ways, record coalescing,
// timeouts and end of stream, over 127.0.0.1 with throw-away certificates.
#include <catch2/catch.hpp>

#include <sys/uio.h>

#include <vector>

#include "test/unit/transport/tls_fixture.h"

using namespace tls_fixture;
using lb::TlsAcceptResult;

namespace {

// Counts the application-data records the server's side of `stream` reads.
void count_records(int write_p, int, int content_type, const void* buf, size_t len, SSL*, void* counter) {
  if (write_p == 0 && content_type == SSL3_RT_HEADER && len >= 5 &&
      static_cast<const unsigned char*>(buf)[0] == SSL3_RT_APPLICATION_DATA) {
    ++*static_cast<int*>(counter);
  }
}

std::string pattern(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return data;
}

}  // namespace

// Bytes cross both ways intact, small and large (1 MB, past every socket buffer), with the CA verified.
TEST_CASE("TLS stream: handshake and echo both ways", "[tls]") {
  lb::TlsServerContext context({pair("server")});
  const std::string big = pattern(1 << 20);
  std::string got_small, got_big;
  ssize_t last_read = 1;
  OneShotServer server(context, [&](lb::Stream& stream) {
    got_small = read_exactly(stream, 9);
    stream.write_all("pong:", 5, 5s);
    stream.write_all(got_small.data(), got_small.size(), 5s);
    got_big = read_exactly(stream, big.size());
    stream.write_all(big.data(), big.size(), 5s);
    char byte;
    last_read = stream.read(&byte, 1, 5s);  // the client's close_notify
  });
  lb::TlsClientContext client_context(true, certificates().path("ca.crt"));
  std::string error;
  auto client = connect_client(server.port(), client_context, "localhost", error);
  REQUIRE(client);
  char ping[] = "ping", space[] = " ", data[] = "data";
  struct iovec parts[] = {{ping, 4}, {space, 1}, {data, 4}};
  REQUIRE(client->write_all(parts, 3, 5s));
  CHECK(read_exactly(*client, 14) == "pong:ping data");
  REQUIRE(client->write_all(big.data(), big.size(), 5s));
  CHECK(read_exactly(*client, big.size()) == big);
  client.reset();
  server.join();
  CHECK(got_small == "ping data");
  CHECK(got_big == big);
  CHECK(last_read == lb::kEof);
}

// write_all packs small iovecs into as few TLS records as the bytes need.
TEST_CASE("TLS stream: write_all coalesces iovecs into full records", "[tls]") {
  lb::TlsServerContext context({pair("server")});
  int records_small = 0, records_mixed = 0;
  size_t bytes_small = 0, bytes_mixed = 0;
  OneShotServer server(context, [&](lb::Stream& stream) {
    SSL* ssl = dynamic_cast<lb::TlsStream&>(stream).native();
    SSL_set_msg_callback(ssl, count_records);
    SSL_set_msg_callback_arg(ssl, &records_small);
    bytes_small = read_exactly(stream, 400).size();
    SSL_set_msg_callback_arg(ssl, &records_mixed);
    bytes_mixed = read_exactly(stream, 40000).size();
    SSL_set_msg_callback(ssl, nullptr);
  });
  lb::TlsClientContext client_context(false, "");
  std::string error;
  auto client = connect_client(server.port(), client_context, "localhost", error);
  REQUIRE(client);
  std::string small = pattern(400);
  std::vector<struct iovec> parts;
  for (size_t i = 0; i < small.size(); i += 10) parts.push_back({&small[i], 10});
  REQUIRE(client->write_all(parts.data(), static_cast<int>(parts.size()), 5s));
  std::string mixed = pattern(40000);
  struct iovec three[] = {{&mixed[0], 1000}, {&mixed[1000], 30000}, {&mixed[31000], 9000}};
  REQUIRE(client->write_all(three, 3, 5s));
  server.join();
  CHECK(bytes_small == 400);
  CHECK(records_small == 1);
  CHECK(bytes_mixed == 40000);
  CHECK(records_mixed == 3);  // ceil(40000 / 16384)
}

// A read with nothing to receive returns kTimeout after about its timeout, and the stream still works.
TEST_CASE("TLS stream: a read timeout returns kTimeout", "[tls]") {
  lb::TlsServerContext context({pair("server")});
  OneShotServer server(context, [](lb::Stream& stream) {
    std::string hello = read_exactly(stream, 5);
    stream.write_all(hello.data(), hello.size(), 5s);
  });
  lb::TlsClientContext client_context(false, "");
  std::string error;
  auto client = connect_client(server.port(), client_context, "localhost", error);
  REQUIRE(client);
  char buf[16];
  auto start = std::chrono::steady_clock::now();
  CHECK(client->read(buf, sizeof buf, 150ms) == lb::kTimeout);
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed >= 140ms);
  CHECK(elapsed < 2s);
  REQUIRE(client->write_all("hello", 5, 5s));
  CHECK(read_exactly(*client, 5) == "hello");
}

// A peer that closes TCP without close_notify reads as kEof, like a plain TCP close.
TEST_CASE("TLS stream: a close without close_notify reads as kEof", "[tls]") {
  lb::TlsServerContext context({pair("server")});
  ssize_t last_read = 1;
  OneShotServer server(context, [&last_read](lb::Stream& stream) {
    stream.write_all("x", 1, 5s);
    char byte;
    last_read = stream.read(&byte, 1, 5s);
  });
  lb::TlsClientContext client_context(false, "");
  std::string error;
  auto client = connect_client(server.port(), client_context, "localhost", error);
  REQUIRE(client);
  // Read what the server sent (with its TLS 1.3 session tickets): a close
  // with unread bytes would be a TCP reset, not the clean close tested here.
  CHECK(read_exactly(*client, 1) == "x");
  SSL_set_quiet_shutdown(dynamic_cast<lb::TlsStream&>(*client).native(), 1);  // no close_notify
  client.reset();
  server.join();
  CHECK(last_read == lb::kEof);
}

namespace {

// Waits (bounded) until `fd` has something to read: bytes, or an EOF.
bool becomes_readable(int fd) {
  struct pollfd pfd {
    fd, POLLIN, 0
  };
  return ::poll(&pfd, 1, 5000) == 1;
}

}  // namespace

// A pooled TLS connection is judged by TLS records, not raw socket bytes: the
// server's TLS 1.3 session tickets, unread after the handshake, leave it open;
// application bytes or a close do not.
TEST_CASE("TLS stream: idle_and_open looks through session tickets", "[tls]") {
  lb::TlsServerContext context({pair("server")});
  OneShotServer server(context, [](lb::Stream& stream) {
    read_exactly(stream, 1);  // the client's cue
    stream.write_all("late", 4, 5s);
    read_exactly(stream, 1, 5s);  // until the client closes
  });
  lb::TlsClientContext client_context(false, "");
  std::string error;
  auto client = connect_client(server.port(), client_context, "localhost", error);
  REQUIRE(client);
  REQUIRE(becomes_readable(client->fd()));  // the session tickets wait in the socket
  CHECK(client->idle_and_open());
  CHECK(client->idle_and_open());  // and stays so: the tickets were taken in

  REQUIRE(client->write_all("g", 1, 5s));
  // Whatever arrives now (a late ticket first, perhaps), "late" ends it.
  bool open = true;
  for (int i = 0; i < 10 && open && becomes_readable(client->fd()); ++i) open = client->idle_and_open();
  CHECK_FALSE(open);  // bytes nobody asked for
  CHECK(read_exactly(*client, 4) == "late");  // looked at, not consumed
  client.reset();
  server.join();
}

TEST_CASE("TLS stream: idle_and_open is false once the peer closed", "[tls]") {
  lb::TlsServerContext context({pair("server")});
  OneShotServer server(context, [](lb::Stream&) {});  // closes (close_notify) right after the handshake
  lb::TlsClientContext client_context(false, "");
  std::string error;
  auto client = connect_client(server.port(), client_context, "localhost", error);
  REQUIRE(client);
  server.join();
  REQUIRE(becomes_readable(client->fd()));
  CHECK_FALSE(client->idle_and_open());
}
