// TLS-ALPN-01 on the TLS listener (RFC 8737): a handshake offering
// "acme-tls/1" for a name with a challenge waiting gets the challenge's
// certificate, is not asked for a client certificate (--tls-client-ca
// required), and no other handshake ever sees that certificate.
#include <catch2/catch.hpp>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "lb/acme/challenge_board.h"
#include "test/unit/transport/tls_fixture.h"

using namespace tls_fixture;
using lb::TlsAcceptResult;

namespace {

const std::string kName = "shop.example.test";

struct Seen {
  bool handshake = false;
  std::string alpn;
  bool acme_identifier = false;  // the peer certificate carries id-pe-acmeIdentifier
};

// A raw TLS 1.2 client (its handshake ends after the server's Finished, so a
// refused client certificate would show) offering `alpn` for kName.
Seen connect(uint16_t port, const std::vector<unsigned char>& alpn) {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_alpn_protos(context, alpn.data(), static_cast<unsigned>(alpn.size()));
  SSL* ssl = SSL_new(context);
  const int fd = connect_raw(port);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, kName.c_str());
  Seen seen;
  seen.handshake = SSL_connect(ssl) == 1;
  if (seen.handshake) {
    const unsigned char* chosen = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl, &chosen, &length);
    seen.alpn.assign(reinterpret_cast<const char*>(chosen), length);
    X509* peer = SSL_get1_peer_certificate(ssl);
    ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    seen.acme_identifier = peer != nullptr && X509_get_ext_by_OBJ(peer, oid, -1) >= 0;
    ASN1_OBJECT_free(oid);
    X509_free(peer);
  }
  SSL_free(ssl);
  SSL_CTX_free(context);
  ::close(fd);
  ERR_clear_error();
  return seen;
}

const std::vector<unsigned char> kAcmeTls = {10, 'a', 'c', 'm', 'e', '-', 't', 'l', 's', '/', '1'};
const std::vector<unsigned char> kHttp11 = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

}  // namespace

TEST_CASE("TLS-ALPN-01: acme-tls/1 gets the challenge certificate, with no client certificate asked", "[acme][tls]") {
  lb::acme::ChallengeBoard board;
  lb::AlpnChallengeLookup lookup = [&board](const std::string& name) -> std::optional<lb::TlsCertificate> {
    auto challenge = board.tls_alpn01(name);
    if (!challenge) return std::nullopt;
    return lb::TlsCertificate{"", "", challenge->certificate, challenge->key};
  };
  const lb::ClientCertificatePolicy required{certificates().path("ca.crt"), true};
  lb::TlsServerContext context({pair("server")}, true, required, lookup);

  {  // no challenge waiting: acme-tls/1 is refused
    OneShotServer server(context, [](lb::Stream&) {});
    CHECK_FALSE(connect(server.port(), kAcmeTls).handshake);
    server.join();
    CHECK(server.error == "no application protocol");
  }
  board.post_tls_alpn01(kName, lb::acme::tls_alpn_challenge_certificate(kName, "token.thumbprint"));
  {
    std::string server_alpn;
    OneShotServer server(context, [&](lb::Stream& stream) { server_alpn = dynamic_cast<lb::TlsStream&>(stream).alpn(); });
    const Seen seen = connect(server.port(), kAcmeTls);
    server.join();
    INFO(server.error);
    CHECK(seen.handshake);
    CHECK(seen.alpn == "acme-tls/1");
    CHECK(seen.acme_identifier);
    CHECK(server.result == TlsAcceptResult::Ok);
    CHECK(server_alpn == "acme-tls/1");  // ProxyServer closes such a connection at once
  }
  {  // any other handshake for that name: our certificate, and a client certificate is required
    OneShotServer server(context, [](lb::Stream&) {});
    const Seen seen = connect(server.port(), kHttp11);
    server.join();
    CHECK_FALSE(seen.handshake);
    CHECK(server.result == TlsAcceptResult::Failed);
  }
  lb::TlsServerContext open({pair("server")}, true, {}, lookup);
  OneShotServer server(open, [](lb::Stream&) {});
  const Seen seen = connect(server.port(), kHttp11);
  server.join();
  CHECK(seen.handshake);
  CHECK(seen.alpn == "http/1.1");
  CHECK_FALSE(seen.acme_identifier);
}
