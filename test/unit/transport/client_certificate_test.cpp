// Client certificates both ways over 127.0.0.1: a TlsServerContext that asks
// for one (--tls-client-ca, required or optional) and the subject it verified,
// a TlsClientContext that presents one (--backend-cert/--backend-key), and the
// one-line errors for files that cannot be used.
#include <catch2/catch.hpp>

#include "test/unit/transport/tls_fixture.h"

using namespace tls_fixture;
using lb::TlsAcceptResult;

namespace {

struct Handshake {
  TlsAcceptResult result = TlsAcceptResult::Failed;
  std::string server_error;
  std::string subject;  // what the server's TlsStream tells of its client
};

// One connection from a client presenting `client_pair` ("": none) to a server
// asking with `policy`, for `host` (SNI).
Handshake handshake(const lb::ClientCertificatePolicy& policy, const char* client_pair,
                    const std::string& host = "localhost") {
  lb::TlsServerContext server_context({pair("server"), pair("second")}, true, policy);
  const lb::TlsCertificate mine = client_pair[0] ? pair(client_pair) : lb::TlsCertificate{};
  lb::TlsClientContext client_context(true, certificates().path("ca.crt"), mine);
  Handshake seen;
  OneShotServer server(server_context, [&seen](lb::Stream& stream) {
    seen.subject = dynamic_cast<lb::TlsStream&>(stream).client_subject();
    stream.write_all("x", 1, 5s);  // the client waits for it: its handshake is over on both sides
  });
  std::string client_error;
  auto client = connect_client(server.port(), client_context, host, client_error);
  if (client) read_exactly(*client, 1);  // TLS 1.3: a refusal comes after the client's Finished
  server.join();
  seen.result = server.result;
  seen.server_error = server.error;
  return seen;
}

lb::ClientCertificatePolicy asking(bool required) { return {certificates().path("ca.crt"), required}; }

}  // namespace

// required: a certificate from the CA passes and its subject is told in RFC 2253
// order (as nginx's $ssl_client_s_dn); none, or one from another CA, fails.
TEST_CASE("TLS: a required client certificate", "[tls][client-cert]") {
  Handshake with = handshake(asking(true), "client");
  CHECK(with.result == TlsAcceptResult::Ok);
  CHECK(with.subject == "CN=client,O=Example");

  Handshake without = handshake(asking(true), "");
  CHECK(without.result == TlsAcceptResult::Failed);
  CHECK_THAT(without.server_error, Catch::Contains("certificate"));

  Handshake outsider = handshake(asking(true), "outsider");
  CHECK(outsider.result == TlsAcceptResult::Failed);
}

// optional: no certificate passes with no subject; a presented one must still verify.
TEST_CASE("TLS: an optional client certificate", "[tls][client-cert]") {
  Handshake without = handshake(asking(false), "");
  CHECK(without.result == TlsAcceptResult::Ok);
  CHECK(without.subject.empty());

  Handshake with = handshake(asking(false), "client2");
  CHECK(with.result == TlsAcceptResult::Ok);
  CHECK(with.subject == "CN=client2,O=Example");

  CHECK(handshake(asking(false), "outsider").result == TlsAcceptResult::Failed);
}

// The context SNI switches to asks alike; without --tls-client-ca nothing is asked or told.
TEST_CASE("TLS: client certificates under SNI, and none asked", "[tls][client-cert]") {
  CHECK(handshake(asking(true), "", "api.example.test").result == TlsAcceptResult::Failed);
  Handshake sni = handshake(asking(true), "client", "api.example.test");
  CHECK(sni.result == TlsAcceptResult::Ok);
  CHECK(sni.subject == "CN=client,O=Example");

  Handshake unasked = handshake({}, "client");
  CHECK(unasked.result == TlsAcceptResult::Ok);
  CHECK(unasked.subject.empty());
}

// Files that cannot be used: one line naming the file.
TEST_CASE("TLS: bad client CA, client certificate and key files", "[tls][client-cert]") {
  const auto& c = certificates();
  const std::string missing = c.path("missing-ca.crt");
  CHECK_THROWS_WITH(lb::TlsServerContext({pair("server")}, true, {missing, true}), Catch::Contains(missing));
  CHECK_THROWS_WITH(lb::TlsServerContext({pair("server")}, true, {c.path("server.key"), true}),
                    Catch::Contains("server.key") && Catch::Contains("no PEM certificates"));

  CHECK_THROWS_WITH(lb::TlsClientContext(true, "", {c.path("client.crt"), c.path("other.key")}),
                    Catch::Contains("other.key") && Catch::Contains("does not match"));
  CHECK_THROWS_WITH(lb::TlsClientContext(true, "", {c.path("client.key"), c.path("client.key")}),
                    Catch::Contains("client.key") && Catch::Contains("not a PEM certificate"));
  CHECK_THROWS_WITH(lb::TlsClientContext(true, "", {c.path("client.crt"), missing}), Catch::Contains(missing));
}
