// W3C trace context (lb/http/trace_context.h): traceparent read strictly,
// tracestate passed on, a new trace when the client's is unusable.
#include <catch2/catch.hpp>

#include <string>

#include "lb/http/http_message_parser.h"
#include "lb/http/trace_context.h"

using namespace lb;

namespace {

const std::string kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kParent = "00f067aa0ba902b7";

// A source counting up from 1: ids are predictable.
RandomSource counting() {
  auto next = std::make_shared<uint64_t>(0);
  return [next] { return ++*next; };
}

MessageHead parsed(const std::string& head, MessageParser& parser) {
  parser.feed(head.data(), head.size());
  REQUIRE(parser.phase() != MessageParser::Phase::Error);
  return parser.head();
}

}  // namespace

TEST_CASE("traceparent: a valid version 00 value", "[trace-context]") {
  const auto parent = parse_traceparent("00-" + kTrace + "-" + kParent + "-01");
  REQUIRE(parent);
  CHECK(parent->trace_id == kTrace);
  CHECK(parent->parent_id == kParent);
  CHECK(parent->flags == 1);
  CHECK(parse_traceparent("00-" + kTrace + "-" + kParent + "-00")->flags == 0);
  CHECK(parse_traceparent("00-" + kTrace + "-" + kParent + "-ff")->flags == 255);
}

TEST_CASE("traceparent: every kind of malformed value is refused", "[trace-context]") {
  const std::string valid = "00-" + kTrace + "-" + kParent + "-01";
  CHECK_FALSE(parse_traceparent(""));
  CHECK_FALSE(parse_traceparent(valid.substr(0, 54)));                       // short
  CHECK_FALSE(parse_traceparent(valid + "-00"));                            // version 00 has nothing after
  CHECK_FALSE(parse_traceparent(valid + " "));
  CHECK_FALSE(parse_traceparent("00-" + kTrace + "_" + kParent + "-01"));   // separators
  CHECK_FALSE(parse_traceparent("00_" + kTrace + "-" + kParent + "-01"));
  CHECK_FALSE(parse_traceparent("00-" + kTrace + "-" + kParent + "_01"));
  CHECK_FALSE(parse_traceparent("00-" + std::string(32, '0') + "-" + kParent + "-01"));  // all-zero ids
  CHECK_FALSE(parse_traceparent("00-" + kTrace + "-" + std::string(16, '0') + "-01"));
  CHECK_FALSE(parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-" + kParent + "-01"));  // upper case
  CHECK_FALSE(parse_traceparent("00-" + kTrace + "-00F067AA0BA902B7-01"));
  CHECK_FALSE(parse_traceparent("00-" + kTrace + "-" + kParent + "-0A"));
  CHECK_FALSE(parse_traceparent("0A-" + kTrace + "-" + kParent + "-01"));
  CHECK_FALSE(parse_traceparent("00-" + kTrace.substr(0, 31) + "g-" + kParent + "-01"));  // not hex
  CHECK_FALSE(parse_traceparent("00-" + kTrace + "-" + kParent + "-0x"));
  CHECK_FALSE(parse_traceparent("ff-" + kTrace + "-" + kParent + "-01"));  // version ff is never valid
}

// A later version is read by the forward-compatible rule: its first 55
// characters as version 00's, and more only after a '-'.
TEST_CASE("traceparent: a future version", "[trace-context]") {
  const std::string fields = kTrace + "-" + kParent + "-01";
  const auto exact = parse_traceparent("01-" + fields);
  REQUIRE(exact);
  CHECK(exact->trace_id == kTrace);
  const auto longer = parse_traceparent("cc-" + fields + "-what-the-future-brings");
  REQUIRE(longer);
  CHECK(longer->parent_id == kParent);
  CHECK(longer->flags == 1);
  CHECK_FALSE(parse_traceparent("cc-" + fields + "x"));  // more, but not after a '-'
  CHECK_FALSE(parse_traceparent("cc-" + kTrace + "-" + kParent + "-0"));
}

TEST_CASE("traceparent: formatted for the backend", "[trace-context]") {
  CHECK(format_traceparent(kTrace, kParent, 1) == "00-" + kTrace + "-" + kParent + "-01");
  CHECK(format_traceparent(kTrace, kParent, 0xa0) == "00-" + kTrace + "-" + kParent + "-a0");
  const RandomSource random = counting();
  const std::string trace_id = random_trace_id(32, random);
  CHECK(trace_id == "10000000000000002000000000000000");  // low nibble first, two draws
  CHECK(random_trace_id(16, random) == "3000000000000000");
  const RandomSource zeros_then_one = [calls = 0]() mutable -> uint64_t { return ++calls > 2 ? 7 : 0; };
  CHECK(random_trace_id(16, zeros_then_one) == "7000000000000000");  // all zero is drawn again
}

TEST_CASE("incoming trace: continued with its tracestate, or started anew", "[trace-context]") {
  const RandomSource random = counting();
  const std::string traceparent = "traceparent: 00-" + kTrace + "-" + kParent + "-00\r\n";
  SECTION("a valid traceparent and two tracestate fields") {
    MessageParser parser(HTTP_REQUEST, 8192);
    const MessageHead head = parsed("GET / HTTP/1.1\r\nHost: a\r\n" + traceparent +
                                    "tracestate: congo=t61rcWkgMzE\r\nTraceState: rojo=00f067aa0ba902b7\r\n\r\n", parser);
    const IncomingTrace trace = incoming_trace(head, random);
    CHECK(trace.continued);
    CHECK(trace.trace_id == kTrace);
    CHECK(trace.parent_span_id == kParent);
    CHECK(trace.flags == 0);  // the client's sampling decision is kept
    CHECK(trace.tracestate == "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  }
  SECTION("no traceparent: a new sampled trace, tracestate ignored") {
    MessageParser parser(HTTP_REQUEST, 8192);
    const IncomingTrace trace =
        incoming_trace(parsed("GET / HTTP/1.1\r\nHost: a\r\ntracestate: congo=1\r\n\r\n", parser), random);
    CHECK_FALSE(trace.continued);
    CHECK(trace.trace_id == "10000000000000002000000000000000");
    CHECK(trace.parent_span_id.empty());
    CHECK(trace.flags == 1);
    CHECK(trace.tracestate.empty());
  }
  SECTION("a malformed traceparent: a new trace") {
    MessageParser parser(HTTP_REQUEST, 8192);
    const IncomingTrace trace = incoming_trace(
        parsed("GET / HTTP/1.1\r\ntraceparent: 00-" + kTrace + "-" + kParent + "-1\r\ntracestate: a=1\r\n\r\n", parser),
        random);
    CHECK_FALSE(trace.continued);
    CHECK(trace.trace_id != kTrace);
    CHECK(trace.tracestate.empty());
  }
  SECTION("two traceparent fields are ambiguous: a new trace") {
    MessageParser parser(HTTP_REQUEST, 8192);
    const IncomingTrace trace = incoming_trace(parsed("GET / HTTP/1.1\r\n" + traceparent + traceparent + "\r\n", parser),
                                               random);
    CHECK_FALSE(trace.continued);
  }
  SECTION("a tracestate over 512 bytes is dropped, the trace kept") {
    MessageParser parser(HTTP_REQUEST, 8192);
    const std::string long_state = "tracestate: a=" + std::string(300, 'x') + "\r\ntracestate: b=" +
                                   std::string(300, 'y') + "\r\n";
    const IncomingTrace trace =
        incoming_trace(parsed("GET / HTTP/1.1\r\n" + traceparent + long_state + "\r\n", parser), random);
    CHECK(trace.continued);
    CHECK(trace.tracestate.empty());
  }
}
