// Forward auth's subrequest head (lb/proxy/forward_auth.h) byte for byte, the
// edge's header changes on the forwarded head, and the auth URL's parsing
// (lb/routing/forward_auth_target.h).
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "lb/http/http_message_parser.h"
#include "lb/proxy/forward_auth.h"
#include "lb/proxy/upstream_request_head.h"

using namespace lb;

namespace {

struct Parsed {
  MessageParser parser{HTTP_REQUEST, 8192};
  explicit Parsed(const std::string& request) {
    parser.feed(request.data(), request.size());
    REQUIRE(parser.phase() != MessageParser::Phase::Error);
  }
  const MessageHead& head() const { return parser.head(); }
};

std::string target_error(const std::string& url) {
  try {
    make_forward_auth_target(url, {}, Millis(1000));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

// The client's fields go to the auth service, framing and hop-by-hop ones
// aside; ours say what the request was, replacing any the client claimed.
TEST_CASE("forward auth: the subrequest's head", "[forward-auth]") {
  auto target = make_forward_auth_target("http://auth.internal:9000/verify?app=shop", {}, Millis(1000));
  Parsed request(
      "POST /cart/add?id=7 HTTP/1.1\r\nHost: shop.example\r\nCookie: s=1\r\nX-Forwarded-Uri: /forged\r\n"
      "X-Forwarded-For: 203.0.113.1\r\nConnection: keep-alive, x-hop\r\nX-Hop: 1\r\nContent-Length: 3\r\n"
      "Expect: 100-continue\r\n\r\n");
  CHECK(forward_auth_head(*target, {request.head(), "10.0.0.9", "https", Millis(1000)}) ==
        "GET /verify?app=shop HTTP/1.1\r\n"
        "Host: auth.internal:9000\r\n"
        "Cookie: s=1\r\n"
        "X-Forwarded-Method: POST\r\n"
        "X-Forwarded-Proto: https\r\n"
        "X-Forwarded-Host: shop.example\r\n"
        "X-Forwarded-Uri: /cart/add?id=7\r\n"
        "X-Forwarded-For: 203.0.113.1, 10.0.0.9\r\n"
        "\r\n");
}

// Basic auth's Authorization is dropped and forward auth's fields replace the client's.
TEST_CASE("forward auth: the edge's changes to the forwarded head", "[forward-auth]") {
  Parsed request("GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Basic eDp5\r\nX-User: mallory\r\nX-Keep: 1\r\n\r\n");
  HeaderRules edge;
  edge.remove = {"Authorization", "X-User"};
  edge.add = {{"X-User", "alice"}};
  UpstreamHeadOptions options;
  options.client_ip = "10.0.0.9";
  options.forwarded_proto = "http";
  options.via_header = "Via: 1.1 lb\r\n";
  options.edge_rules = &edge;
  std::string out;
  build_upstream_head(request.head(), options, out);
  CHECK(out ==
        "GET / HTTP/1.1\r\nHost: a\r\nX-Keep: 1\r\nX-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\n"
        "X-Forwarded-Host: a\r\nX-User: alice\r\nVia: 1.1 lb\r\n\r\n");
}

// URLs: http:// only, a host, a port in range, no spaces; the path and query kept.
TEST_CASE("forward auth: the URL", "[forward-auth]") {
  auto target = make_forward_auth_target("http://[::1]:9000", {"X-User"}, Millis(2000));
  CHECK(target->host == "::1");
  CHECK(target->port == 9000);
  CHECK(target->host_header == "[::1]:9000");
  CHECK(target->target == "/");
  CHECK(make_forward_auth_target("http://auth?x=1", {}, Millis(1))->target == "/?x=1");
  CHECK(make_forward_auth_target("http://auth", {}, Millis(1))->port == 80);
  CHECK(make_forward_auth_target("http://[::1]/v", {}, Millis(1))->port == 80);
  CHECK(target_error("https://auth/verify") == "'https://auth/verify': use an http:// URL");
  CHECK(target_error("http:///verify") == "'http:///verify': no host");
  CHECK(target_error("http://auth:0/") == "'http://auth:0/': bad port");
  CHECK(target_error("http://auth:70000/") == "'http://auth:70000/': bad port");
  CHECK(target_error("http://auth:/") == "'http://auth:/': bad port");
  CHECK(target_error("http://auth/a b") == "'http://auth/a b': spaces, control bytes or '#'");
  CHECK(target_error("http://u:p@auth/") == "'http://u:p@auth/': no user info in the URL");
}
