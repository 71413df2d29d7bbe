// TLS contexts and handshakes: certificates, SNI, verification, versions, ALPN
// and plain HTTP on the TLS port, over 127.0.0.1 with throw-away certificates.
#include <catch2/catch.hpp>

#include <openssl/err.h>

#include <thread>
#include <vector>

#include "test/unit/transport/tls_fixture.h"

using namespace tls_fixture;
using lb::TlsAcceptResult;

namespace {

// A handshake with a hand-made client context (a TLS 1.1 or h2-only client
// that lb's own TlsClientContext would never be). True when it succeeds.
bool raw_handshake(uint16_t port, SSL_CTX* client) {
  int fd = connect_raw(port);
  SSL* ssl = SSL_new(client);
  SSL_set_fd(ssl, fd);
  bool ok = SSL_connect(ssl) == 1;
  SSL_free(ssl);
  ::close(fd);
  ERR_clear_error();
  return ok;
}

// The server side of a connection whose client sends `bytes` and nothing
// else, handed to accept_tls with `timeout`. `elapsed` is how long it took.
TlsAcceptResult accept_after(const std::string& bytes, lb::Millis timeout, std::string& error,
                             std::chrono::milliseconds& elapsed, std::string* left_on_socket = nullptr) {
  lb::TlsServerContext context({pair("server")});
  Listener listener;
  int client = connect_raw(listener.port());
  ::send(client, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  int server = listener.accept();
  std::unique_ptr<lb::Stream> stream;
  auto start = std::chrono::steady_clock::now();
  TlsAcceptResult result = lb::accept_tls(server, context, timeout, stream, error);
  elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (left_on_socket != nullptr) {
    char buf[64];
    ssize_t n = ::recv(server, buf, sizeof buf, MSG_DONTWAIT);
    left_on_socket->assign(buf, n > 0 ? static_cast<size_t>(n) : 0);
  }
  if (result != TlsAcceptResult::Ok) ::close(server);
  ::close(client);
  return result;
}

}  // namespace

// SNI picks the certificate whose SAN matches (wildcard included); other or absent names get the first one.
TEST_CASE("TLS: SNI selects the matching certificate", "[tls]") {
  lb::TlsServerContext context({pair("server"), pair("second")});
  lb::TlsClientContext verifying(true, certificates().path("ca.crt"));
  lb::TlsClientContext trusting(false, "");
  struct Case {
    const lb::TlsClientContext& client;
    std::string host;
    std::string expected_cn;
  };
  for (const Case& c : {Case{verifying, "api.example.test", "api.example.test"},
                        Case{verifying, "WWW.Example.Test", "api.example.test"},
                        Case{verifying, "localhost", "localhost"},
                        Case{trusting, "unknown.test", "localhost"},
                        Case{verifying, "127.0.0.1", "localhost"}}) {  // an IP literal sends no SNI
    OneShotServer server(context, [](lb::Stream&) {});
    std::string error;
    auto client = connect_client(server.port(), c.client, c.host, error);
    INFO(c.host << ": " << error);
    REQUIRE(client);
    CHECK(subject_cn(*client) == c.expected_cn);
  }
}

// A certificate from an untrusted issuer, or for another name or address, fails verification on the client.
TEST_CASE("TLS: client verification rejects untrusted or mismatched certificates", "[tls]") {
  lb::TlsServerContext rogue({pair("rogue")});
  lb::TlsServerContext genuine({pair("server")});
  lb::TlsClientContext verifying(true, certificates().path("ca.crt"));
  struct Case {
    const lb::TlsServerContext& server;
    std::string host;
    std::string error;
  };
  for (const Case& c : {Case{rogue, "localhost", "certificate verify failed: self-signed certificate"},
                        Case{genuine, "other.test", "certificate verify failed: hostname mismatch"},
                        Case{genuine, "127.0.0.2", "certificate verify failed: IP address mismatch"}}) {
    OneShotServer server(c.server, [](lb::Stream&) {});
    std::string error;
    auto client = connect_client(server.port(), verifying, c.host, error);
    server.join();
    INFO(c.host);
    CHECK_FALSE(client);
    CHECK(error == c.error);
    CHECK(server.result == TlsAcceptResult::Failed);  // the client's alert ends the server's handshake
  }
  // With verification off, the same untrusted certificate is accepted.
  OneShotServer server(rogue, [](lb::Stream&) {});
  std::string error;
  lb::TlsClientContext trusting(false, "");
  CHECK(connect_client(server.port(), trusting, "localhost", error));
}

// A client that offers at most TLS 1.1 is refused with "unsupported protocol".
TEST_CASE("TLS: the server refuses TLS 1.1", "[tls]") {
  lb::TlsServerContext context({pair("server")});
  SSL_CTX* old_client = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(old_client, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(old_client, TLS1_1_VERSION);
  SSL_CTX_set_cipher_list(old_client, "DEFAULT:@SECLEVEL=0");  // let OpenSSL 3 send a TLS 1.1 hello at all
  OneShotServer server(context, [](lb::Stream&) {});
  CHECK_FALSE(raw_handshake(server.port(), old_client));
  server.join();
  CHECK(server.result == TlsAcceptResult::Failed);
  CHECK(server.error == "unsupported protocol");
  SSL_CTX_free(old_client);
}

// ALPN settles on http/1.1 on both sides; a client offering only h2 is refused.
// Without HTTP/2 (--no-http2) ALPN agrees on http/1.1 or nothing; with it, an
// h2-only client gets h2 (TlsStream::alpn() tells ProxyServer which to run).
TEST_CASE("TLS: ALPN negotiates http/1.1 only without HTTP/2", "[tls]") {
  lb::TlsServerContext context({pair("server")}, /*offer_h2=*/false);
  std::string server_alpn;
  {
    OneShotServer server(context, [&server_alpn](lb::Stream& stream) {
      const unsigned char* name = nullptr;
      unsigned int len = 0;
      SSL_get0_alpn_selected(dynamic_cast<lb::TlsStream&>(stream).native(), &name, &len);
      server_alpn.assign(reinterpret_cast<const char*>(name), len);
    });
    lb::TlsClientContext client_context(true, certificates().path("ca.crt"));
    std::string error;
    auto client = connect_client(server.port(), client_context, "localhost", error);
    REQUIRE(client);
    const unsigned char* name = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(dynamic_cast<lb::TlsStream&>(*client).native(), &name, &len);
    CHECK(std::string(reinterpret_cast<const char*>(name), len) == "http/1.1");
  }
  CHECK(server_alpn == "http/1.1");

  SSL_CTX* h2_only = SSL_CTX_new(TLS_client_method());
  static const unsigned char kH2[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(h2_only, kH2, sizeof kH2);
  OneShotServer server(context, [](lb::Stream&) {});
  CHECK_FALSE(raw_handshake(server.port(), h2_only));
  server.join();
  CHECK(server.result == TlsAcceptResult::Failed);
  CHECK(server.error == "no application protocol");

  lb::TlsServerContext with_h2({pair("server")});
  std::string chosen;
  OneShotServer h2_server(with_h2, [&chosen](lb::Stream& stream) { chosen = dynamic_cast<lb::TlsStream&>(stream).alpn(); });
  CHECK(raw_handshake(h2_server.port(), h2_only));
  h2_server.join();
  CHECK(chosen == "h2");
  SSL_CTX_free(h2_only);
}

// Plain HTTP on the TLS port is recognised at once and left unread for a plain-text 400.
TEST_CASE("TLS: plain HTTP on the TLS port yields PlainHttp without consuming it", "[tls]") {
  for (std::string request : {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "P"}) {
    std::string error, left;
    std::chrono::milliseconds elapsed{};
    CHECK(accept_after(request, 5s, error, elapsed, &left) == TlsAcceptResult::PlainHttp);
    CHECK(elapsed < 1s);
    CHECK(left == request.substr(0, 64));
  }
}

// A silent or stalled client cannot hold the handshake past its timeout.
TEST_CASE("TLS: the server handshake is bounded by its timeout", "[tls]") {
  for (const std::string& bytes : {std::string(), std::string("\x16\x03\x01\x02\x00", 5)}) {
    std::string error;
    std::chrono::milliseconds elapsed{};
    CHECK(accept_after(bytes, 200ms, error, elapsed) == TlsAcceptResult::Failed);
    CHECK(error == "handshake timeout");
    CHECK(elapsed >= 190ms);
    CHECK(elapsed < 2s);
  }
}

// Bad certificate or key files fail at start-up with one line naming the file.
TEST_CASE("TLS: unusable certificate files throw naming the file", "[tls]") {
  const auto& c = certificates();
  const std::string missing = c.path("missing.crt");
  struct Case {
    lb::TlsCertificate files;
    std::string file;
    std::string words;
  };
  for (const Case& bad : {Case{{missing, c.path("server.key")}, missing, "No such file"},
                          Case{{c.path("server.crt"), missing}, missing, "No such file"},
                          Case{{c.path("server.key"), c.path("server.key")}, c.path("server.key"), "not a PEM certificate"},
                          Case{{c.path("server.crt"), c.path("server.crt")}, c.path("server.crt"), "not an unencrypted PEM"},
                          Case{{c.path("server.crt"), c.path("other.key")}, c.path("other.key"), "does not match"},
                          Case{{c.path("server.crt"), c.path("")}, c.path(""), "Is a directory"}}) {
    try {
      lb::TlsServerContext context({pair("server"), bad.files});
      FAIL("no exception for " << bad.file);
    } catch (const std::runtime_error& e) {
      std::string message = e.what();
      INFO(message);
      CHECK(message.find(bad.file) != std::string::npos);
      CHECK(message.find(bad.words) != std::string::npos);
      CHECK(message.find('\n') == std::string::npos);
    }
  }
  CHECK_THROWS_WITH(lb::TlsClientContext(true, missing), Catch::Contains(missing));
  CHECK_THROWS_WITH(lb::TlsClientContext(true, c.path("server.key")), Catch::Contains("no PEM certificates"));
}

// Handshakes on many threads at once share one server and one client context safely (run under TSan too).
TEST_CASE("TLS: concurrent handshakes share the contexts", "[tls]") {
  lb::TlsServerContext context({pair("server"), pair("second")});
  lb::TlsClientContext client_context(true, certificates().path("ca.crt"));
  constexpr int kConnections = 8;
  auto echo = [](lb::Stream& stream) {
    std::string got = read_exactly(stream, 4);
    stream.write_all(got.data(), got.size(), 5s);
  };
  std::vector<std::unique_ptr<OneShotServer>> servers;
  for (int i = 0; i < kConnections; ++i) servers.push_back(std::make_unique<OneShotServer>(context, echo));
  std::vector<std::string> seen(kConnections);  // one slot per client thread
  std::vector<std::thread> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.emplace_back([&, i] {
      std::string error;
      auto client = connect_client(servers[i]->port(), client_context, i % 2 ? "api.example.test" : "localhost", error);
      if (!client) {
        seen[i] = error;
        return;
      }
      client->write_all("ping", 4, 5s);
      seen[i] = read_exactly(*client, 4) + " " + subject_cn(*client);
    });
  }
  for (auto& client : clients) client.join();
  for (int i = 0; i < kConnections; ++i) CHECK(seen[i] == (i % 2 ? "ping api.example.test" : "ping localhost"));
}
