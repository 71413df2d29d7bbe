// The head sent to clients and how their body is framed
// (lb/proxy/client_response_head.h): exact bytes for the common cases.
#include <catch2/catch.hpp>

#include <string>

#include "lb/http/http_message_parser.h"
#include "lb/proxy/client_response_head.h"

using namespace lb;

namespace {

struct ParsedResponse {
  MessageParser parser{HTTP_RESPONSE, 8192};
  explicit ParsedResponse(const std::string& bytes, bool head_request = false) {
    parser.reset(head_request);
    parser.feed(bytes.data(), bytes.size());
    REQUIRE(parser.phase() != MessageParser::Phase::Error);
    REQUIRE(parser.phase() != MessageParser::Phase::Head);
  }
  const MessageHead& head() const { return parser.head(); }
};

std::string client_head(const std::string& response, Framing framing, ClientHeadOptions options = {}) {
  ParsedResponse parsed(response);
  if (options.via_value.empty()) options.via_value = "1.1 lb";
  std::string out;
  build_client_response_head(parsed.head(), framing, options, out);
  return out;
}

}  // namespace

// No body for HEAD, 1xx, 204, 304; the length when there is one; otherwise
// chunked to HTTP/1.1 clients and close-delimited to HTTP/1.0 ones.
TEST_CASE("client body framing", "[client-head]") {
  const std::string length = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
  const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string until_close = "HTTP/1.1 200 OK\r\n\r\n";
  CHECK(client_body_framing(ParsedResponse(length).head(), false, true) == Framing::Length);
  CHECK(client_body_framing(ParsedResponse(length).head(), false, false) == Framing::Length);
  CHECK(client_body_framing(ParsedResponse(length, true).head(), true, true) == Framing::None);
  CHECK(client_body_framing(ParsedResponse(chunked).head(), false, true) == Framing::Chunked);
  CHECK(client_body_framing(ParsedResponse(chunked).head(), false, false) == Framing::Close);
  CHECK(client_body_framing(ParsedResponse(until_close).head(), false, true) == Framing::Chunked);
  CHECK(client_body_framing(ParsedResponse(until_close).head(), false, false) == Framing::Close);
  for (const char* status : {"100 Continue", "204 No Content", "304 Not Modified"}) {
    INFO(status);
    ParsedResponse bodiless(std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 5\r\n\r\n");
    CHECK(client_body_framing(bodiless.head(), false, true) == Framing::None);
  }
}

// Header bytes pass through, hop-by-hop ones are dropped, framing is ours.
TEST_CASE("client head: pass-through and framing written by us", "[client-head]") {
  CHECK(client_head("HTTP/1.1 200 Fine\r\nX-Case: KeEp\r\nConnection: x-hop, close\r\nX-Hop: 1\r\n"
                    "Transfer-Encoding: chunked\r\nKeep-Alive: 5\r\n\r\n",
                    Framing::Chunked) ==
        "HTTP/1.1 200 Fine\r\nX-Case: KeEp\r\nVia: 1.1 lb\r\nTransfer-Encoding: chunked\r\n\r\n");
  ClientHeadOptions closing;
  closing.keep_client = false;
  CHECK(client_head("HTTP/1.0 200 OK\r\n\r\n", Framing::Close, closing) ==
        "HTTP/1.1 200 OK\r\nVia: 1.1 lb\r\nConnection: close\r\n\r\n");
  ClientHeadOptions http10;
  http10.client_http11 = false;
  CHECK(client_head("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", Framing::Length, http10) ==
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nVia: 1.1 lb\r\nConnection: keep-alive\r\n\r\n");
}

// An interim response is written as one, with nothing of ours but Via; 101
// keeps its Upgrade and says Connection: Upgrade.
TEST_CASE("client head: interim responses", "[client-head]") {
  ClientHeadOptions options;
  options.trace_value = "t";
  CHECK(client_head("HTTP/1.1 100 Continue\r\n\r\n", Framing::None, options) ==
        "HTTP/1.1 100 Continue\r\nVia: 1.1 lb\r\n\r\n");
  CHECK(client_head("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                    Framing::None, options) ==
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nVia: 1.1 lb\r\nConnection: Upgrade\r\n\r\n");
}

// Our request id replaces the backend's; the route's rules, the sticky cookie
// and the trace are added; a rule dropping Via drops ours too.
TEST_CASE("client head: our fields and the route's rules", "[client-head]") {
  HeaderRules rules;
  rules.remove = {"Server", "Via"};
  rules.set = {{"X-Env", "prod"}};
  ClientHeadOptions options;
  options.rules = &rules;
  options.request_id_header = "X-Request-ID";
  options.request_id = "abc";
  options.sticky_set_cookie = "lb=1; Path=/";
  options.trace_value = "t";
  CHECK(client_head("HTTP/1.1 200 OK\r\nServer: b\r\nx-request-id: theirs\r\nX-Env: dev\r\nContent-Length: 0\r\n\r\n",
                    Framing::Length, options) ==
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Request-ID: abc\r\nX-Env: prod\r\nSet-Cookie: lb=1; Path=/\r\n"
        "X-LB-Trace: t\r\n\r\n");
}
