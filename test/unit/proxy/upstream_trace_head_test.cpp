// The trace fields of the head sent to backends (README "Traces"): with
// --otlp-endpoint ours replace the client's; without, the client's pass.
#include <catch2/catch.hpp>

#include <string>

#include "lb/http/http_message_parser.h"
#include "lb/proxy/upstream_request_head.h"

using namespace lb;

namespace {

std::string head_for(const std::string& request, UpstreamHeadOptions options) {
  MessageParser parser(HTTP_REQUEST, 8192);
  parser.feed(request.data(), request.size());
  REQUIRE(parser.phase() != MessageParser::Phase::Error);
  options.client_ip = "10.0.0.9";
  options.forwarded_proto = "http";
  options.via_header = "Via: 1.1 lb\r\n";
  options.x_forwarded_headers = false;
  std::string out;
  build_upstream_head(parser.head(), options, out);
  return out;
}

const std::string kRequest =
    "GET / HTTP/1.1\r\nHost: a\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
    "TraceState: congo=1\r\ntracestate: rojo=2\r\n\r\n";

}  // namespace

TEST_CASE("upstream head: the attempt's traceparent replaces the client's", "[upstream-head][traces]") {
  UpstreamHeadOptions options;
  options.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01";
  options.tracestate = "congo=1,rojo=2";
  CHECK(head_for(kRequest, options) ==
        "GET / HTTP/1.1\r\nHost: a\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01\r\n"
        "tracestate: congo=1,rojo=2\r\nVia: 1.1 lb\r\n\r\n");
  options.tracestate = "";  // a new trace: no tracestate at all
  CHECK(head_for(kRequest, options) ==
        "GET / HTTP/1.1\r\nHost: a\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01\r\n"
        "Via: 1.1 lb\r\n\r\n");
}

TEST_CASE("upstream head: without tracing the client's trace fields pass", "[upstream-head][traces]") {
  CHECK(head_for(kRequest, UpstreamHeadOptions{}) ==
        "GET / HTTP/1.1\r\nHost: a\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
        "TraceState: congo=1\r\ntracestate: rojo=2\r\nVia: 1.1 lb\r\n\r\n");
}
