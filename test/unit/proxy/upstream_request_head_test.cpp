// The head sent to backends (lb/proxy/upstream_request_head.h): exact bytes for the common cases.
#include <catch2/catch.hpp>

#include <string>

#include "lb/http/http_message_parser.h"
#include "lb/proxy/upstream_request_head.h"

using namespace lb;

namespace {

std::string upstream_head(const std::string& request, UpstreamHeadOptions options = {}) {
  MessageParser parser(HTTP_REQUEST, 8192);
  parser.feed(request.data(), request.size());
  REQUIRE(parser.phase() != MessageParser::Phase::Error);
  if (options.client_ip.empty()) options.client_ip = "10.0.0.9";
  if (options.forwarded_proto.empty()) options.forwarded_proto = "http";
  if (options.via_header.empty()) options.via_header = "Via: 1.1 lb\r\n";
  if (options.fallback_host.empty()) options.fallback_host = "backend:8001";
  std::string out;
  build_upstream_head(parser.head(), options, out);
  return out;
}

}  // namespace

// Header bytes pass through, hop-by-hop ones are dropped, forwarding headers added.
TEST_CASE("upstream head: pass-through and forwarding headers", "[upstream-head]") {
  CHECK(upstream_head("GET /a?b=%26 HTTP/1.1\r\nHost: Site:81\r\nX-Case: KeEp\r\nConnection: x-hop\r\n"
                      "X-Hop: 1\r\nKeep-Alive: 5\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n") ==
        "GET /a?b=%26 HTTP/1.1\r\nHost: Site:81\r\nX-Case: KeEp\r\nX-Forwarded-For: 1.2.3.4, 10.0.0.9\r\n"
        "X-Forwarded-Proto: http\r\nX-Forwarded-Host: Site:81\r\nVia: 1.1 lb\r\n\r\n");
}

// An absolute-form target's authority becomes the Host the backend receives.
TEST_CASE("upstream head: absolute-form authority wins over Host", "[upstream-head]") {
  UpstreamHeadOptions options;
  options.x_forwarded_headers = false;
  CHECK(upstream_head("GET http://real.example/x HTTP/1.1\r\nHost: spoofed\r\n\r\n", options) ==
        "GET http://real.example/x HTTP/1.1\r\nHost: real.example\r\nVia: 1.1 lb\r\n\r\n");
  CHECK(upstream_head("GET /x HTTP/1.0\r\n\r\n", options) == "GET /x HTTP/1.1\r\nHost: backend:8001\r\nVia: 1.1 lb\r\n\r\n");
}

// A risky body asks the backend to close; chunked bodies are re-framed by us alone.
TEST_CASE("upstream head: framing written by us", "[upstream-head]") {
  UpstreamHeadOptions options;
  options.x_forwarded_headers = false;
  options.close_connection = true;
  CHECK(upstream_head("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\n", options) ==
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nVia: 1.1 lb\r\nConnection: close\r\n\r\n");
  options.close_connection = false;
  CHECK(upstream_head("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\nTE: trailers\r\n\r\n", options) ==
        "POST / HTTP/1.1\r\nHost: a\r\nVia: 1.1 lb\r\nTransfer-Encoding: chunked\r\n\r\n");
}

// A route's request-headers: remove and set drop the client's fields (and ours
// of that name), set and add append; strip-prefix sends the shortened target.
TEST_CASE("upstream head: route header rules and strip-prefix", "[upstream-head]") {
  HeaderRules rules;
  rules.remove = {"X-Debug", "X-Forwarded-Host"};
  rules.set = {{"X-Env", "prod"}, {"X-Forwarded-Proto", "https"}};
  rules.add = {{"X-Tag", "lb"}};
  UpstreamHeadOptions options;
  options.rules = &rules;
  options.target = "/users?q=1";
  CHECK(upstream_head("GET /api/users?q=1 HTTP/1.1\r\nHost: a\r\nX-Debug: 1\r\nx-env: dev\r\nX-Env: test\r\n"
                      "X-Tag: client\r\n\r\n",
                      options) ==
        "GET /users?q=1 HTTP/1.1\r\nHost: a\r\nX-Tag: client\r\nX-Forwarded-For: 10.0.0.9\r\n"
        "X-Env: prod\r\nX-Forwarded-Proto: https\r\nX-Tag: lb\r\nVia: 1.1 lb\r\n\r\n");
}

// --request-id-header: an id we made up is sent; the client's own passes as it came.
TEST_CASE("upstream head: a fresh request id", "[upstream-head]") {
  UpstreamHeadOptions options;
  options.x_forwarded_headers = false;
  options.request_id_header = "X-Request-ID";
  options.request_id = "0123456789abcdef0123456789abcdef";
  CHECK(upstream_head("GET / HTTP/1.1\r\nHost: a\r\n\r\n", options) ==
        "GET / HTTP/1.1\r\nHost: a\r\nX-Request-ID: 0123456789abcdef0123456789abcdef\r\nVia: 1.1 lb\r\n\r\n");
}

// X-Client-Cert-Subject comes from our handshake alone: whatever the client
// sent (any case, any number of lines) is dropped, with or without a subject of ours.
TEST_CASE("upstream head: the client certificate subject is ours alone", "[upstream-head][client-cert]") {
  const std::string forged = "GET / HTTP/1.1\r\nHost: a\r\nX-Client-Cert-Subject: CN=admin\r\n"
                             "x-client-cert-subject: CN=root\r\n\r\n";
  UpstreamHeadOptions options;
  options.x_forwarded_headers = false;
  CHECK(upstream_head(forged, options) == "GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 lb\r\n\r\n");
  options.client_cert_subject = "CN=client,O=Example";
  CHECK(upstream_head(forged, options) ==
        "GET / HTTP/1.1\r\nHost: a\r\nX-Client-Cert-Subject: CN=client,O=Example\r\nVia: 1.1 lb\r\n\r\n");
}
