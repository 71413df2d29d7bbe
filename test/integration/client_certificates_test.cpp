// Client certificates both ways, through the real binaries (README "Client
// certificates"): --tls-client-ca required and optional, checked with curl
// (HTTP/1.1 and HTTP/2) and openssl s_client, X-Client-Cert-Subject as the
// backend sees it (the bundled backend echoes its headers), and
// --backend-cert/--backend-key towards an nginx that requires a client
// certificate, as flags, per pool and across a SIGHUP.
#include <catch2/catch.hpp>
#include <signal.h>

#include <fstream>

#include "test/support/backend_process.h"
#include "test/support/load_balancer_process.h"
#include "test/support/nginx_process.h"
#include "test/support/raw_http.h"
#include "test/support/shell.h"
#include "test/support/test_certificates.h"

using namespace test_support;
using namespace std::chrono_literals;

namespace {

std::string cert(const std::string& name) { return test_certificates().path(name.c_str()); }

// A TLS listener asking for client certificates from the test CA, then `extra`.
std::vector<std::string> asking_flags(std::vector<std::string> extra = {}) {
  std::vector<std::string> flags{"--tls-cert", cert("server.crt"), "--tls-key", cert("server.key"), "--tls-client-ca",
                                 cert("ca.crt")};
  flags.insert(flags.end(), extra.begin(), extra.end());
  return flags;
}

// curl to https://localhost:PORT/ as client `name` ("": none), with a forged
// X-Client-Cert-Subject; `extra` adds curl options. Status and output.
std::pair<int, std::string> curl_as(int port, const std::string& name, const std::string& extra = "") {
  std::string command = "curl -sS --max-time 10 --cacert " + cert("ca.crt") + " -H 'X-Client-Cert-Subject: CN=forged' ";
  if (!name.empty()) command += "--cert " + cert(name + ".crt") + " --key " + cert(name + ".key") + " ";
  return shell(command + extra + " https://localhost:" + std::to_string(port) + "/");
}

// One request by `openssl s_client` as client `name` ("": none), with `extra`
// options (-ign_eof: wait for the answer after sending): what it printed.
std::pair<int, std::string> s_client_as(int port, const std::string& name, const std::string& extra = "-quiet") {
  std::string command = "printf 'GET / HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n"
                        "X-Client-Cert-Subject: CN=forged\\r\\n\\r\\n' | openssl s_client " + extra +
                        " -connect 127.0.0.1:" + std::to_string(port) + " -servername localhost -CAfile " +
                        cert("ca.crt");
  if (!name.empty()) command += " -cert " + cert(name + ".crt") + " -key " + cert(name + ".key");
  return shell(command + " 2>&1");
}

const char* const kSubject = "\"X-Client-Cert-Subject\":\"CN=client,O=Example\"";

// An nginx that requires a client certificate from the test CA and answers
// every request (its health checks too) with the subject it verified.
NginxProcess nginx_requiring_client_certificates() {
  return NginxProcess("    ssl_certificate " + cert("server.crt") + ";\n    ssl_certificate_key " + cert("server.key") +
                      ";\n    ssl_client_certificate " + cert("ca.crt") +
                      ";\n    ssl_verify_client on;\n"
                      "    location / { default_type text/plain; return 200 \"client $ssl_client_s_dn\\n\"; }");
}

struct TempConfig {
  std::string path = "/tmp/lb_client_cert_test_" + std::to_string(::getpid()) + ".json";
  explicit TempConfig(const std::string& text) { write(text); }
  ~TempConfig() { std::remove(path.c_str()); }
  void write(const std::string& text) const { std::ofstream(path) << text; }
};

}  // namespace

// required: no certificate, or one from another CA, gets no handshake and
// reaches no backend; the CA's client is let in, its subject told to the
// backend, and a client's own X-Client-Cert-Subject never passes.
TEST_CASE("a required client certificate", "[integration][tls][client-cert]") {
  BackendProcess backend;
  LoadBalancerProcess lb({backend.url()}, asking_flags());

  auto [without, without_output] = curl_as(lb.port(), "");
  CHECK(without != 0);
  CHECK_THAT(without_output, !Catch::Contains(backend.id()));
  auto [outsider, outsider_output] = curl_as(lb.port(), "outsider");
  CHECK(outsider != 0);
  CHECK_THAT(outsider_output, !Catch::Contains(backend.id()));

  auto [with, body] = curl_as(lb.port(), "client");
  CHECK(with == 0);
  CHECK_THAT(body, Catch::Contains(kSubject));
  CHECK_THAT(body, !Catch::Contains("forged"));

  // The same with openssl s_client: a TLS 1.3 refusal is an alert after the client's Finished.
  auto [s_without, s_without_output] = s_client_as(lb.port(), "");
  CHECK(s_without != 0);
  CHECK_THAT(s_without_output, Catch::Contains("certificate required"));
  CHECK_THAT(s_without_output, !Catch::Contains(backend.id()));
  auto [s_with, s_with_output] = s_client_as(lb.port(), "client");
  CHECK(s_with == 0);
  CHECK_THAT(s_with_output, Catch::Contains(kSubject));
  CHECK_THAT(s_with_output, !Catch::Contains("forged"));
  // A resumed session (no certificate sent again) keeps its subject; OpenSSL resumes one
  // with peer verification on only when a session id context is set.
  const std::string session = "/tmp/lb_client_cert_session_" + std::to_string(::getpid()) + ".pem";
  for (const std::string version : {"-tls1_2", "-tls1_3"}) {
    CHECK(s_client_as(lb.port(), "client", version + " -ign_eof -sess_out " + session).first == 0);
    auto [resumed, resumed_output] = s_client_as(lb.port(), "", version + " -ign_eof -sess_in " + session);
    CHECK(resumed == 0);
    CHECK_THAT(resumed_output, Catch::Contains("Reused, TLS"));
    CHECK_THAT(resumed_output, Catch::Contains(kSubject));
  }
  std::remove(session.c_str());
  // TLS 1.2: the refusal is part of the handshake itself.
  CHECK(shell("openssl s_client -tls1_2 -connect 127.0.0.1:" + std::to_string(lb.port()) + " -CAfile " +
              cert("ca.crt") + " </dev/null")
            .first != 0);
}

// HTTP/2 streams carry their connection's subject, and drop a client's own header.
TEST_CASE("a client certificate over HTTP/2", "[integration][tls][http2][client-cert]") {
  BackendProcess backend;
  LoadBalancerProcess lb({backend.url()}, asking_flags());
  auto [with, output] = curl_as(lb.port(), "client", "--http2 -w '\\n%{http_version}\\n'");
  CHECK(with == 0);
  CHECK_THAT(output, Catch::Contains(kSubject));
  CHECK_THAT(output, !Catch::Contains("forged"));
  CHECK_THAT(output, Catch::EndsWith("\n2\n"));
  CHECK(curl_as(lb.port(), "", "--http2").first != 0);
}

// optional: a client without a certificate is let in with no subject (and
// none it made up); one with a certificate is told; one from another CA is refused.
TEST_CASE("an optional client certificate", "[integration][tls][client-cert]") {
  BackendProcess backend;
  LoadBalancerProcess lb({backend.url()}, asking_flags({"--tls-client-verify", "optional"}));
  auto [without, without_body] = curl_as(lb.port(), "");
  CHECK(without == 0);
  CHECK_THAT(without_body, Catch::Contains(backend.id()));
  CHECK_THAT(without_body, !Catch::Contains("X-Client-Cert-Subject"));
  auto [h2_without, h2_body] = curl_as(lb.port(), "", "--http2");
  CHECK(h2_without == 0);
  CHECK_THAT(h2_body, !Catch::Contains("X-Client-Cert-Subject"));

  auto [with, with_body] = curl_as(lb.port(), "client");
  CHECK(with == 0);
  CHECK_THAT(with_body, Catch::Contains(kSubject));
  CHECK(curl_as(lb.port(), "outsider").first != 0);
}

// Without TLS there is no certificate: a client's X-Client-Cert-Subject is dropped all the same (HTTP/1.1 and h2c).
TEST_CASE("a client-sent X-Client-Cert-Subject on plain HTTP", "[integration][tls][client-cert]") {
  BackendProcess backend;
  LoadBalancerProcess lb({backend.url()}, {"--h2c"});
  RawResponse response =
      http_request(lb.port(), build_request("GET", "/", {{"X-Client-Cert-Subject", "CN=admin"}, {"X-Other", "kept"}}));
  CHECK(response.status == 200);
  CHECK_THAT(response.body, Catch::Contains("\"X-Other\":\"kept\""));
  CHECK_THAT(response.body, !Catch::Contains("X-Client-Cert-Subject"));
  auto [status, body] = shell("curl -sS --max-time 10 --http2-prior-knowledge -H 'X-Client-Cert-Subject: CN=admin' "
                              "http://127.0.0.1:" + std::to_string(lb.port()) + "/");
  CHECK(status == 0);
  CHECK_THAT(body, Catch::Contains(backend.id()));
  CHECK_THAT(body, !Catch::Contains("X-Client-Cert-Subject"));
}

// --check names the client CA and how each pool reaches its https:// backends.
TEST_CASE("what --check prints of client certificates", "[integration][tls][client-cert]") {
  auto [status, output] = run_load_balancer_to_exit(
      {"-b", "https://localhost:9", "--check", "--tls-cert", cert("server.crt"), "--tls-key", cert("server.key"),
       "--tls-client-ca", cert("ca.crt"), "--tls-client-verify", "optional", "--backend-ca", cert("ca.crt"),
       "--backend-cert", cert("client.crt"), "--backend-key", cert("client.key")});
  CHECK(status == 0);
  CHECK_THAT(output, Catch::Contains("client ca  " + cert("ca.crt") + ", certificate optional"));
  CHECK_THAT(output, Catch::Contains("backend tls default: CA " + cert("ca.crt") + ", client certificate " +
                                     cert("client.crt")));
  auto [bad, bad_output] = run_load_balancer_to_exit({"-b", "https://localhost:9", "--check", "--backend-cert",
                                                      cert("client.crt"), "--backend-key", cert("other.key")});
  CHECK(bad == 2);
  CHECK_THAT(bad_output, Catch::Contains("other.key") && Catch::Contains("does not match"));
}

// A client CA file that is not one: one line naming it, exit 2, at start and with --check;
// on SIGHUP the reload is refused and the running listener keeps asking with the old CA.
TEST_CASE("a bad client CA file", "[integration][tls][reload][client-cert]") {
  for (bool check : {false, true}) {
    std::vector<std::string> args{"-b", "http://127.0.0.1:9", "--tls-cert", cert("server.crt"), "--tls-key",
                                  cert("server.key"), "--tls-client-ca", cert("client.key")};
    if (check) args.push_back("--check");
    auto [status, output] = run_load_balancer_to_exit(args);
    CHECK(status == 2);
    CHECK_THAT(output, Catch::Contains("TLS client CA file " + cert("client.key")));
  }

  BackendProcess backend;
  auto config_with = [&](const std::string& ca) {
    return R"({"backends": [")" + backend.url() + R"("], "tls-cert": [")" + cert("server.crt") +
           R"("], "tls-key": [")" + cert("server.key") + R"("], "tls-client-ca": ")" + ca + R"("})";
  };
  TempConfig config(config_with(cert("ca.crt")));
  LoadBalancerProcess lb({}, {"--config", config.path});
  config.write(config_with(cert("client.key")));
  REQUIRE(lb.process().signal(SIGHUP));
  auto rejected = lb.process().wait_for_line("[Reload] rejected", 5s);
  REQUIRE(rejected);
  CHECK_THAT(*rejected, Catch::Contains(cert("client.key")));
  CHECK(curl_as(lb.port(), "").first != 0);
  CHECK_THAT(curl_as(lb.port(), "client").second, Catch::Contains(kSubject));
}

// An HTTPS backend (nginx, ssl_verify_client on) sees our --backend-cert; without it, nginx refuses us
// (400 "No required SSL certificate"), so the health check fails and clients get 503.
TEST_CASE("a backend that requires a client certificate", "[integration][tls][client-cert]") {
  REQUIRE(NginxProcess::installed());  // scripts/deps.sh --test installs nginx-light
  NginxProcess nginx = nginx_requiring_client_certificates();

  LoadBalancerProcess presenting({nginx.https_url()}, {"--backend-ca", cert("ca.crt"), "--backend-cert",
                                                       cert("client.crt"), "--backend-key", cert("client.key")});
  RawResponse ok = http_request(presenting.port(), build_request("GET", "/"));
  CHECK(ok.status == 200);
  CHECK_THAT(ok.body, Catch::Contains("client CN=client,O=Example"));

  LoadBalancerProcess bare({nginx.https_url()}, {"--backend-ca", cert("ca.crt"), "--health-interval", "60"});
  CHECK(bare.process().wait_for_line("is UNHEALTHY (status 400)", 5s));
  CHECK(http_request(bare.port(), build_request("GET", "/")).status == 503);

  // A certificate from a CA nginx does not trust: refused alike (nginx answers 400 for it too).
  LoadBalancerProcess outsider({nginx.https_url()}, {"--backend-ca", cert("ca.crt"), "--backend-cert",
                                                     cert("outsider.crt"), "--backend-key", cert("outsider.key")});
  CHECK(outsider.process().wait_for_line("is UNHEALTHY", 5s));
  CHECK(http_request(outsider.port(), build_request("GET", "/")).status == 503);
}

// Per pool in the config file, a pool's own pair over the top-level one; a SIGHUP that changes a pool's
// certificate takes effect at once (pooled connections made with the old one are dropped), one that
// removes it makes the backend refuse us, and a key that does not match is refused keeping the old.
TEST_CASE("backend client certificates per pool and across SIGHUP", "[integration][tls][reload][client-cert]") {
  REQUIRE(NginxProcess::installed());
  NginxProcess nginx = nginx_requiring_client_certificates();
  auto config_with = [&](const std::string& other_pool_tls) {
    return R"({"backend-ca": ")" + cert("ca.crt") + R"(", "backend-cert": ")" + cert("client.crt") +
           R"(", "backend-key": ")" + cert("client.key") + R"(", "health-interval": 60,
      "pools": {"default": {"backends": [")" + nginx.https_url() + R"("]},
                "other": {"backends": [")" + nginx.https_url() + R"("])" + other_pool_tls + R"(}},
      "routes": [{"path": "/other", "pool": "other"}, {"pool": "default"}]})";
  };
  auto pair_of = [](const std::string& name) {
    return R"(, "backend-cert": ")" + cert(name + ".crt") + R"(", "backend-key": ")" + cert(name + ".key") + R"(")";
  };
  TempConfig config(config_with(pair_of("client2")));
  LoadBalancerProcess lb({}, {"--config", config.path});
  CHECK_THAT(http_request(lb.port(), build_request("GET", "/")).body, Catch::Contains("client CN=client,O=Example"));
  CHECK_THAT(http_request(lb.port(), build_request("GET", "/other")).body,
             Catch::Contains("client CN=client2,O=Example"));

  config.write(config_with(pair_of("client")));
  REQUIRE(lb.process().signal(SIGHUP));
  REQUIRE(lb.process().wait_for_line("[Reload] applied", 5s));
  CHECK_THAT(http_request(lb.port(), build_request("GET", "/other")).body,
             Catch::Contains("client CN=client,O=Example"));

  config.write(config_with(R"(, "backend-cert": "", "backend-key": "")"));
  REQUIRE(lb.process().signal(SIGHUP));
  REQUIRE(lb.process().wait_for_line("[Reload] applied", 5s, 2));
  CHECK(http_request(lb.port(), build_request("GET", "/other")).status == 503);  // the reload's health round
  CHECK(http_request(lb.port(), build_request("GET", "/")).status == 200);

  config.write(config_with(R"(, "backend-cert": ")" + cert("client2.crt") + R"(", "backend-key": ")" +
                           cert("client.key") + R"(")"));
  REQUIRE(lb.process().signal(SIGHUP));
  auto rejected = lb.process().wait_for_line("[Reload] rejected", 5s);
  REQUIRE(rejected);
  CHECK_THAT(*rejected, Catch::Contains("pool 'other'") && Catch::Contains("does not match"));
  CHECK(http_request(lb.port(), build_request("GET", "/other")).status == 503);  // the running configuration
}
