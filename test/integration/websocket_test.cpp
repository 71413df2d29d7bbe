// backend_server's WebSocket echo on /ws (RFC 6455), directly and through the
// load balancer's Upgrade tunnel, with a tiny WebSocket client over raw sockets.
#include <catch2/catch.hpp>

#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/support/backend_process.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/test_certificates.h"

using namespace test_support;
using namespace std::chrono_literals;

namespace {

// The sample handshake from RFC 6455 section 1.3.
constexpr char kSampleKey[] = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr char kSampleAccept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

constexpr std::uint8_t kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8,
                       kPing = 0x9, kPong = 0xA;

std::string handshake_request(const std::string& target = "/ws", const HeaderList& headers = {
                                  {"Upgrade", "websocket"},
                                  {"Connection", "Upgrade"},
                                  {"Sec-WebSocket-Version", "13"},
                                  {"Sec-WebSocket-Key", kSampleKey}}) {
  return build_request("GET", target, headers);
}

// A client frame, masked as RFC 6455 requires of clients unless `masked` is
// false. `announced` overrides the length in the header (to announce more than is sent).
std::string client_frame(std::uint8_t opcode, const std::string& payload, bool fin = true,
                         bool masked = true, std::uint64_t announced = UINT64_MAX) {
  std::uint64_t length = announced == UINT64_MAX ? payload.size() : announced;
  std::string out(1, static_cast<char>((fin ? 0x80 : 0) | opcode));
  char mask_bit = masked ? static_cast<char>(0x80) : 0;
  int extra = 0;
  if (length < 126) {
    out += static_cast<char>(mask_bit | static_cast<char>(length));
  } else if (length <= 0xFFFF) {
    out += static_cast<char>(mask_bit | 126);
    extra = 2;
  } else {
    out += static_cast<char>(mask_bit | 127);
    extra = 8;
  }
  for (int i = extra - 1; i >= 0; --i) out += static_cast<char>((length >> (8 * i)) & 0xFF);
  const std::uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (masked) out.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out += masked ? static_cast<char>(payload[i] ^ mask[i % 4]) : payload[i];
  }
  return out;
}

std::string close_payload(std::uint16_t code, const std::string& reason = "") {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)} + reason;
}

// Reads exactly `n` bytes or throws (peer closed, or nothing for `timeout`).
std::string read_exactly(int fd, std::size_t n, std::chrono::milliseconds timeout = 10s) {
  std::string out;
  std::vector<char> buf(64 * 1024);
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
      throw std::runtime_error("timed out reading a frame");
    }
    ssize_t got = ::recv(fd, buf.data(), std::min(buf.size(), n - out.size()), 0);
    if (got <= 0) throw std::runtime_error("connection ended in the middle of a frame");
    out.append(buf.data(), static_cast<std::size_t>(got));
  }
  return out;
}

struct Frame {
  bool fin = false;
  std::uint8_t opcode = 0;
  bool masked = false;
  int length_code = 0;  // the 7-bit length field: 126 and 127 announce 16- and 64-bit lengths
  std::string payload;
};

// Reads one frame as the server sent it.
Frame read_frame(int fd) {
  std::string head = read_exactly(fd, 2);
  Frame frame;
  frame.fin = (head[0] & 0x80) != 0;
  frame.opcode = head[0] & 0x0F;
  frame.masked = (head[1] & 0x80) != 0;
  frame.length_code = head[1] & 0x7F;
  std::uint64_t length = static_cast<std::uint64_t>(frame.length_code);
  int extra = length == 126 ? 2 : length == 127 ? 8 : 0;
  if (extra > 0) {
    length = 0;
    for (unsigned char c : read_exactly(fd, static_cast<std::size_t>(extra))) {
      length = length << 8 | c;
    }
  }
  if (frame.masked) read_exactly(fd, 4);  // a server must not mask; the test checks the flag
  frame.payload = read_exactly(fd, static_cast<std::size_t>(length));
  return frame;
}

// A WebSocket client connection to 127.0.0.1:port, opened with the RFC's sample key.
struct Client {
  ScopedFd fd;
  RawResponse handshake;

  explicit Client(int port) : fd(connect_to(port)) {
    send_all(fd.get(), handshake_request());
    handshake = read_response(fd.get());
  }
  void send(std::uint8_t opcode, const std::string& payload, bool fin = true) {
    send_all(fd.get(), client_frame(opcode, payload, fin));
  }
  Frame read() { return read_frame(fd.get()); }
};

// A TLS client on a plain socket, for wss:// through a TLS listener. It does
// not check the certificate (tls_test does); every read waits at most 5 s.
class TlsClient {
 public:
  explicit TlsClient(int port) : fd_(connect_to(port)), context_(SSL_CTX_new(TLS_client_method())) {
    struct timeval five_seconds {
      5, 0
    };
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
    ssl_ = SSL_new(context_);
    SSL_set_fd(ssl_, fd_.get());
    if (SSL_connect(ssl_) != 1) throw std::runtime_error("TLS handshake with the load balancer failed");
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(context_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // Each piece becomes its own TLS record; all of them leave in one send(),
  // so the server reads them together.
  void send_records(const std::vector<std::string>& pieces) {
    BIO* memory = BIO_new(BIO_s_mem());
    SSL_set0_wbio(ssl_, memory);  // the SSL owns it from here
    for (const std::string& piece : pieces) {
      if (SSL_write(ssl_, piece.data(), static_cast<int>(piece.size())) <= 0) throw std::runtime_error("SSL_write");
    }
    char* bytes = nullptr;
    long size = BIO_get_mem_data(memory, &bytes);
    send_all(fd_.get(), std::string(bytes, static_cast<std::size_t>(size)));
    SSL_set0_wbio(ssl_, BIO_new_socket(fd_.get(), BIO_NOCLOSE));
  }

  // Reads until `enough` says the bytes so far are complete (or 5 s pass).
  std::string read_until(const std::function<bool(const std::string&)>& enough) {
    std::string got;
    char buffer[4096];
    while (!enough(got)) {
      int n = SSL_read(ssl_, buffer, sizeof buffer);
      if (n <= 0) break;
      got.append(buffer, static_cast<std::size_t>(n));
    }
    return got;
  }

 private:
  ScopedFd fd_;
  SSL_CTX* context_;
  SSL* ssl_ = nullptr;
};

// A message of every byte value, so nothing is lost to text handling.
std::string binary_bytes(std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>(i * 7 % 256);
  return out;
}

}  // namespace

// The handshake answers 101 with the Sec-WebSocket-Accept the RFC computes for its sample key.
TEST_CASE("websocket: handshake answers 101 with the RFC's accept value",
          "[integration][websocket]") {
  BackendProcess backend;
  Client client(backend.port());
  CHECK(client.handshake.status == 101);
  CHECK(client.handshake.header("Upgrade") == "websocket");
  CHECK(client.handshake.header("Connection") == "Upgrade");
  CHECK(client.handshake.header("Sec-WebSocket-Accept") == kSampleAccept);
}

// Header names and tokens match in any case and inside lists; a query string is allowed.
TEST_CASE("websocket: handshake accepts token lists, any case and a query",
          "[integration][websocket]") {
  BackendProcess backend;
  ScopedFd fd(connect_to(backend.port()));
  send_all(fd.get(), handshake_request("/ws?room=1", {
                                           {"upgrade", "WebSocket"},
                                           {"connection", "keep-alive, UPGRADE"},
                                           {"sec-websocket-version", "13"},
                                           {"sec-websocket-key", "AQIDBAUGBwgJCgsMDQ4PEA=="}}));
  RawResponse switched = read_response(fd.get());
  REQUIRE(switched.status == 101);
  // base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), worked out with Python's hashlib.
  CHECK(switched.header("Sec-WebSocket-Accept") == "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=");
  send_all(fd.get(), client_frame(kText, "hi"));
  CHECK(read_frame(fd.get()).payload == "hi");
}

// Frames that arrive in the same packet as the handshake are not lost.
TEST_CASE("websocket: frames sent right behind the handshake are echoed",
          "[integration][websocket]") {
  BackendProcess backend;
  ScopedFd fd(connect_to(backend.port()));
  send_all(fd.get(), handshake_request() + client_frame(kText, "eager") +
                         client_frame(kBinary, binary_bytes(300)));
  REQUIRE(read_response(fd.get()).status == 101);
  CHECK(read_frame(fd.get()).payload == "eager");
  CHECK(read_frame(fd.get()).payload == binary_bytes(300));
}

// Text and binary messages come back unmasked with their opcode; lengths of all
// three encodings (7-bit, 16-bit, 64-bit) round-trip.
TEST_CASE("websocket: text and binary messages are echoed", "[integration][websocket]") {
  BackendProcess backend;
  Client client(backend.port());
  REQUIRE(client.handshake.status == 101);

  client.send(kText, "hello");
  Frame text = client.read();
  CHECK(text.fin);
  CHECK(text.opcode == kText);
  CHECK_FALSE(text.masked);
  CHECK(text.payload == "hello");

  for (auto [size, length_code] : {std::pair<std::size_t, int>{0, 0}, {300, 126}, {70000, 127}}) {
    INFO("size " << size);
    std::string data = binary_bytes(size);
    client.send(kBinary, data);
    Frame binary = client.read();
    CHECK(binary.opcode == kBinary);
    CHECK(binary.length_code == length_code);
    CHECK(binary.payload == data);
  }
}

// A fragmented message is echoed whole, and a ping between its fragments is answered first.
TEST_CASE("websocket: fragmented messages and interleaved pings", "[integration][websocket]") {
  BackendProcess backend;
  Client client(backend.port());
  REQUIRE(client.handshake.status == 101);
  client.send(kText, "Hel", false);
  client.send(kPing, "mid");
  client.send(kContinuation, "lo, ", false);
  client.send(kContinuation, "w\xC3\xB6rld");  // UTF-8 "ö"
  Frame pong = client.read();
  CHECK(pong.opcode == kPong);
  CHECK(pong.payload == "mid");
  Frame message = client.read();
  CHECK(message.fin);
  CHECK(message.opcode == kText);
  CHECK(message.payload == "Hello, w\xC3\xB6rld");
}

// A ping is answered with a pong carrying the same payload.
TEST_CASE("websocket: ping gets pong", "[integration][websocket]") {
  BackendProcess backend;
  Client client(backend.port());
  REQUIRE(client.handshake.status == 101);
  client.send(kPing, "are you there?");
  Frame pong = client.read();
  CHECK(pong.opcode == kPong);
  CHECK(pong.payload == "are you there?");
  client.send(kPing, "");
  CHECK(client.read().opcode == kPong);
}

// A close from the client is answered with a close echoing its status code,
// then the server ends the connection.
TEST_CASE("websocket: close is answered with close", "[integration][websocket]") {
  BackendProcess backend;
  Client client(backend.port());
  REQUIRE(client.handshake.status == 101);
  client.send(kClose, close_payload(1000, "bye"));
  Frame reply = client.read();
  CHECK(reply.opcode == kClose);
  CHECK(reply.payload == close_payload(1000));
  CHECK(read_until_close(client.fd.get(), 5s).empty());
}

// Protocol violations close the connection with the code RFC 6455 names for them.
TEST_CASE("websocket: bad frames are refused with a close code", "[integration][websocket]") {
  BackendProcess backend;
  struct Case {
    const char* what;
    std::string bytes;
    std::uint16_t code;
  };
  std::vector<Case> cases = {
      {"unmasked frame", client_frame(kText, "hi", true, false), 1002},
      {"continuation without a message", client_frame(kContinuation, "x"), 1002},
      {"fragmented ping", client_frame(kPing, "x", false), 1002},
      {"text that is not UTF-8", client_frame(kText, "\xC0\xAF"), 1007},
      // Only the header is sent: the server refuses before reading the payload.
      {"message over 16 MB", client_frame(kBinary, "", true, true, 16 * 1024 * 1024 + 1), 1009},
      {"reserved close code", client_frame(kClose, close_payload(1005)), 1002},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    Client client(backend.port());
    REQUIRE(client.handshake.status == 101);
    send_all(client.fd.get(), c.bytes);
    Frame reply = client.read();
    CHECK(reply.opcode == kClose);
    CHECK(reply.payload == close_payload(c.code));
    CHECK(read_until_close(client.fd.get(), 5s).empty());
  }
}

// SIGTERM closes open WebSockets with 1001 (going away) and the server exits 0 promptly.
TEST_CASE("websocket: shutdown closes open WebSockets", "[integration][websocket]") {
  BackendProcess backend;
  Client client(backend.port());
  REQUIRE(client.handshake.status == 101);
  auto start = std::chrono::steady_clock::now();
  REQUIRE(backend.process().signal(SIGTERM));
  Frame goodbye = client.read();
  CHECK(goodbye.opcode == kClose);
  CHECK(goodbye.payload == close_payload(1001));
  CHECK(read_until_close(client.fd.get(), 5s).empty());
  CHECK(backend.process().wait_exit(10s) == 0);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

// GET /ws without the upgrade headers is ordinary HTTP: 426 with a JSON
// explanation, and the keep-alive connection goes on serving, upgrade included.
TEST_CASE("websocket: plain GET /ws is 426 and the connection stays usable",
          "[integration][websocket]") {
  BackendProcess backend;
  ScopedFd fd(connect_to(backend.port()));
  send_all(fd.get(), build_request("GET", "/health"));
  CHECK(read_response(fd.get()).status == 200);

  send_all(fd.get(), build_request("GET", "/ws"));
  RawResponse refused = read_response(fd.get());
  CHECK(refused.status == 426);
  CHECK(refused.header("Upgrade") == "websocket");
  CHECK(refused.header("Sec-WebSocket-Version") == "13");
  CHECK(nlohmann::json::parse(refused.body)["error"] == "upgrade required");

  // A version this server does not speak is refused the same way (RFC 6455 section 4.4).
  send_all(fd.get(), handshake_request("/ws", {{"Upgrade", "websocket"},
                                               {"Connection", "Upgrade"},
                                               {"Sec-WebSocket-Version", "8"},
                                               {"Sec-WebSocket-Key", kSampleKey}}));
  CHECK(read_response(fd.get()).status == 426);

  send_all(fd.get(), handshake_request());
  REQUIRE(read_response(fd.get()).status == 101);
  send_all(fd.get(), client_frame(kText, "after http"));
  CHECK(read_frame(fd.get()).payload == "after http");
}

// While a WebSocket is open, the same server keeps answering ordinary requests.
TEST_CASE("websocket: ordinary requests work beside an open WebSocket",
          "[integration][websocket]") {
  BackendProcess backend;
  Client client(backend.port());
  REQUIRE(client.handshake.status == 101);
  CHECK(http_request(backend.port(), build_request("GET", "/health")).status == 200);
  RawResponse posted = http_request(backend.port(), build_request("POST", "/p", {}, "data"));
  CHECK(nlohmann::json::parse(posted.body)["your_data"] == "data");
  CHECK(http_get(backend.port(), "/wsx").status == 404);
  client.send(kText, "still here");
  CHECK(client.read().payload == "still here");
}

// Through the load balancer in front of two backends: the handshake gets 101,
// messages echo both ways over the tunnel, and a client close ends the tunnel.
TEST_CASE("websocket: echo through the load balancer", "[integration][websocket]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()});
  // Two connections: round-robin sends one to each backend.
  for (int i = 0; i < 2; ++i) {
    INFO("connection " << i);
    Client client(lb.port());
    REQUIRE(client.handshake.status == 101);
    CHECK(client.handshake.header("Sec-WebSocket-Accept") == kSampleAccept);
    for (int n = 0; n < 5; ++n) {
      std::string text = "message " + std::to_string(n);
      client.send(kText, text);
      CHECK(client.read().payload == text);
    }
    std::string big = binary_bytes(70000);
    client.send(kBinary, big);
    CHECK(client.read().payload == big);
    client.send(kPing, "p");
    CHECK(client.read().opcode == kPong);

    client.send(kClose, close_payload(1000));
    Frame reply = client.read();
    CHECK(reply.opcode == kClose);
    CHECK(reply.payload == close_payload(1000));
    CHECK(read_until_close(client.fd.get(), 5s).empty());
  }
  CHECK(http_get(lb.port(), "/health").status == 200);
}

// wss://: a frame the client sends right behind its handshake, in the same TCP
// segment but its own TLS record, is still inside OpenSSL (not readable on the
// socket) when the tunnel starts polling. It must be echoed all the same
// (Stream::has_buffered_input), not wait for the next bytes to arrive.
TEST_CASE("websocket: a frame right behind the handshake over TLS is echoed", "[integration][websocket][tls]") {
  BackendProcess backend;
  const auto& certs = test_certificates();
  LoadBalancerProcess lb({backend.url()}, {"--tls-cert", certs.path("server.crt"), "--tls-key", certs.path("server.key")});
  TlsClient client(lb.port());
  client.send_records({handshake_request(), client_frame(kText, "hi")});
  const std::string echoed("\x81\x02hi", 4);  // the server's unmasked text frame
  std::string got = client.read_until([&](const std::string& bytes) {
    size_t head_end = bytes.find("\r\n\r\n");
    return head_end != std::string::npos && bytes.size() >= head_end + 4 + echoed.size();
  });
  REQUIRE(got.rfind("HTTP/1.1 101", 0) == 0);
  CHECK(got.substr(got.find("\r\n\r\n") + 4) == echoed);
}
