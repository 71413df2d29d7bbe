// Spans (lb/operations/request_spans.h) and their export
// (lb/operations/span_exporter.h): the OTLP JSON, the bounded buffer.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "lb/http/http_message_parser.h"
#include "lb/operations/request_spans.h"
#include "lb/operations/span_exporter.h"

using namespace lb;
using json = nlohmann::json;

namespace {

struct SpanList : SpanSink {
  void push(TraceSpan&& span) override { spans.push_back(std::move(span)); }
  std::vector<TraceSpan> spans;
};

RandomSource counting() {
  auto next = std::make_shared<uint64_t>(0);
  return [next] { return ++*next; };
}

// The attribute `key` of an OTLP span, as its JSON value object ({} when absent).
json attribute(const json& span, const std::string& key) {
  for (const auto& item : span["attributes"]) {
    if (item["key"] == key) return item["value"];
  }
  return json::object();
}

TraceSpan named(const std::string& name) {
  TraceSpan span;
  span.name = name;
  return span;
}

}  // namespace

TEST_CASE("OTLP JSON of spans: ids, parent, kind, times, attributes, status", "[spans]") {
  TraceSpan span;
  span.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  span.span_id = "00f067aa0ba902b7";
  span.parent_span_id = "1111111111111111";
  span.name = "GET /api";
  span.kind = SpanKind::Client;
  span.start_unix_nanos = 1700000000123456789ull;
  span.end_unix_nanos = 1700000000223456789ull;
  span.attributes = {{"server.address", std::string("a.test")}, {"server.port", int64_t{8001}}, {"lb.hedge", true}};
  span.error = true;
  const json body = json::parse(otlp_body({span, named("root")}, "edge-lb"));
  const json& resource = body["resourceSpans"][0];
  CHECK(resource["resource"]["attributes"][0] == json::parse(R"({"key":"service.name","value":{"stringValue":"edge-lb"}})"));
  CHECK(resource["scopeSpans"][0]["scope"]["name"] == "cpp-lb");
  const json& spans = resource["scopeSpans"][0]["spans"];
  REQUIRE(spans.size() == 2);
  const json& first = spans[0];
  CHECK(first["traceId"] == span.trace_id);
  CHECK(first["spanId"] == span.span_id);
  CHECK(first["parentSpanId"] == "1111111111111111");
  CHECK(first["name"] == "GET /api");
  CHECK(first["kind"] == 3);
  CHECK(first["startTimeUnixNano"] == "1700000000123456789");
  CHECK(first["endTimeUnixNano"] == "1700000000223456789");
  CHECK(attribute(first, "server.address") == json::parse(R"({"stringValue":"a.test"})"));
  CHECK(attribute(first, "server.port") == json::parse(R"({"intValue":"8001"})"));
  CHECK(attribute(first, "lb.hedge") == json::parse(R"({"boolValue":true})"));
  CHECK(first["status"] == json::parse(R"({"code":2})"));
  CHECK_FALSE(spans[1].contains("parentSpanId"));  // a root span has none
  CHECK(spans[1]["kind"] == 2);
  CHECK(spans[1]["status"] == json::object());
}

TEST_CASE("request spans: a server span, its attempts as children", "[spans]") {
  MessageParser parser(HTTP_REQUEST, 8192);
  const std::string head = "GET /api/x?q=1 HTTP/1.1\r\nHost: shop.test\r\n"
                           "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
                           "tracestate: congo=t61rcWkgMzE\r\n\r\n";
  parser.feed(head.data(), head.size());
  const RandomSource random = counting();
  RequestSpanFacts facts{"GET", "/api/x", "shop.test", "10.0.0.9", "1.1"};
  const auto now = std::chrono::system_clock::now();
  RequestSpans spans(parser.head(), facts, random, now);
  CHECK(spans.incoming().tracestate == "congo=t61rcWkgMzE");

  const size_t first = spans.open_attempt({"127.0.0.1", 8001, "http://127.0.0.1:8001"}, false, now);
  const size_t second = spans.open_attempt({"127.0.0.1", 8002, "http://127.0.0.1:8002"}, true, now);
  CHECK(spans.traceparent(first) != spans.traceparent(second));  // each attempt its own span id
  CHECK(spans.traceparent(first).rfind("00-4bf92f3577b34da6a3ce929d0e0e4736-", 0) == 0);
  CHECK(spans.traceparent(first).substr(53) == "01");

  SpanList sink;
  spans.end_attempt(first, 0, "connection refused", "", now, sink);
  spans.end_attempt(first, 200, "", "", now, sink);  // once only
  spans.end_attempt(second, 200, "", "", now, sink);
  spans.end_request(200, "/api/", "api", now + std::chrono::milliseconds(5), sink);
  REQUIRE(sink.spans.size() == 3);
  const json body = json::parse(otlp_body(sink.spans, "cpp-lb"));
  const json& list = body["resourceSpans"][0]["scopeSpans"][0]["spans"];
  const json& refused = list[0];
  const json& hedge = list[1];
  const json& server = list[2];

  CHECK(server["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(server["parentSpanId"] == "00f067aa0ba902b7");  // the client's span
  CHECK(server["name"] == "GET /api/");
  CHECK(server["kind"] == 2);
  CHECK(attribute(server, "http.request.method")["stringValue"] == "GET");
  CHECK(attribute(server, "url.path")["stringValue"] == "/api/x");
  CHECK(attribute(server, "server.address")["stringValue"] == "shop.test");
  CHECK(attribute(server, "client.address")["stringValue"] == "10.0.0.9");
  CHECK(attribute(server, "network.protocol.version")["stringValue"] == "1.1");
  CHECK(attribute(server, "http.response.status_code")["intValue"] == "200");
  CHECK(attribute(server, "lb.pool")["stringValue"] == "api");
  CHECK(server["status"] == json::object());

  for (const json* attempt : {&refused, &hedge}) {
    CHECK((*attempt)["parentSpanId"] == server["spanId"]);
    CHECK((*attempt)["traceId"] == server["traceId"]);
    CHECK((*attempt)["kind"] == 3);
  }
  CHECK("00-4bf92f3577b34da6a3ce929d0e0e4736-" + refused["spanId"].get<std::string>() + "-01" ==
        spans.traceparent(first));
  CHECK(attribute(refused, "error.type")["stringValue"] == "connection refused");
  CHECK(attribute(refused, "server.port")["intValue"] == "8001");
  CHECK(attribute(refused, "lb.backend.url")["stringValue"] == "http://127.0.0.1:8001");
  CHECK(attribute(refused, "lb.attempt")["intValue"] == "1");
  CHECK(refused["status"]["code"] == 2);
  CHECK(attribute(refused, "lb.hedge") == json::object());
  CHECK(attribute(hedge, "lb.hedge")["boolValue"] == true);
  CHECK(attribute(hedge, "lb.attempt")["intValue"] == "2");
  CHECK(attribute(hedge, "http.response.status_code")["intValue"] == "200");
}

TEST_CASE("request spans: a new trace, 5xx marks the server span, open attempts end with it", "[spans]") {
  MessageParser parser(HTTP_REQUEST, 8192);
  const std::string head = "POST /submit HTTP/1.1\r\nHost: a\r\ntracestate: x=1\r\nContent-Length: 0\r\n\r\n";
  parser.feed(head.data(), head.size());
  const RandomSource random = counting();
  const auto now = std::chrono::system_clock::now();
  RequestSpans spans(parser.head(), RequestSpanFacts{"POST", "/submit", "a", "::1", "2"}, random, now);
  CHECK_FALSE(spans.incoming().continued);
  CHECK(spans.incoming().tracestate.empty());
  const size_t attempt = spans.open_attempt({"::1", 9, "http://[::1]:9"}, false, now);
  CHECK(spans.traceparent(attempt).substr(53) == "01");  // a new trace is sampled
  SpanList sink;
  spans.end_request(502, "", "", now, sink);
  REQUIRE(sink.spans.size() == 2);
  CHECK(sink.spans[1].parent_span_id.empty());
  CHECK(sink.spans[1].name == "POST");
  CHECK(sink.spans[1].error);
  CHECK(sink.spans[0].attributes.back().key == "lb.outcome");
}

TEST_CASE("span buffer: bounded, batched by size or interval", "[spans]") {
  using Clock = SpanBuffer::Clock;
  const Clock::time_point start{std::chrono::hours(1)};
  SpanBuffer buffer(/*capacity=*/5, /*batch_size=*/2, std::chrono::milliseconds(1000), start);
  CHECK_FALSE(buffer.batch_due(start + std::chrono::seconds(5)));  // nothing waits
  REQUIRE(buffer.push(named("a")));
  CHECK_FALSE(buffer.batch_due(start + std::chrono::milliseconds(999)));
  CHECK(buffer.batch_due(start + std::chrono::milliseconds(1000)));  // the interval passed
  REQUIRE(buffer.push(named("b")));
  CHECK(buffer.batch_due(start));  // a full batch waits
  for (const char* name : {"c", "d", "e"}) REQUIRE(buffer.push(named(name)));
  CHECK_FALSE(buffer.push(named("f")));  // full: dropped
  CHECK(buffer.size() == 5);
  const std::vector<TraceSpan> batch = buffer.take(start + std::chrono::milliseconds(10));
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].name == "a");
  CHECK(batch[1].name == "b");
  CHECK(buffer.size() == 3);
  CHECK(buffer.next_batch_at() == start + std::chrono::milliseconds(1010));
  CHECK(buffer.push(named("g")));
}

TEST_CASE("span exporter: a full buffer drops and counts, stop flushes, a failed batch is dropped", "[spans]") {
  Metrics metrics;
  std::vector<std::string> bodies;
  bool accept = true;
  SpanExporterSettings settings;
  settings.endpoint = "http://127.0.0.1:1";
  settings.capacity = 3;
  settings.batch_size = 10;
  settings.interval = std::chrono::hours(1);  // only stop() sends
  auto exporter = std::make_unique<SpanExporter>(settings, metrics,
      [&](const std::string& body, std::chrono::milliseconds, std::string& error) {
        bodies.push_back(body);
        error = "answered 503";
        return accept;
      });
  for (int i = 0; i < 4; ++i) exporter->push(named("s" + std::to_string(i)));  // not started: only buffered
  CHECK(metrics.trace_spans_dropped.load() == 1);
  exporter->start();
  exporter->stop();
  REQUIRE(bodies.size() == 1);
  CHECK(json::parse(bodies[0])["resourceSpans"][0]["scopeSpans"][0]["spans"].size() == 3);
  CHECK(metrics.trace_spans_exported.load() == 3);

  SpanExporter failing(settings, metrics, [&](const std::string&, std::chrono::milliseconds, std::string& error) {
    error = "connection refused";
    return false;
  });
  failing.push(named("x"));
  failing.push(named("y"));
  failing.start();
  failing.stop();
  CHECK(metrics.trace_export_failures.load() == 1);
  CHECK(metrics.trace_spans_dropped.load() == 3);
  CHECK(metrics.trace_spans_exported.load() == 3);
}

TEST_CASE("OTLP endpoint: /v1/traces unless a path is given", "[spans]") {
  CHECK(parse_otlp_endpoint("http://127.0.0.1:4318").origin == "http://127.0.0.1:4318");
  CHECK(parse_otlp_endpoint("http://127.0.0.1:4318").path == "/v1/traces");
  CHECK(parse_otlp_endpoint("http://127.0.0.1:4318/").path == "/v1/traces");
  CHECK(parse_otlp_endpoint("https://collector.test/otlp/v1/traces").path == "/otlp/v1/traces");
  CHECK(parse_otlp_endpoint("https://collector.test/otlp/v1/traces").origin == "https://collector.test");
  CHECK_THROWS_AS(parse_otlp_endpoint("collector:4318"), std::invalid_argument);
  CHECK_THROWS_AS(parse_otlp_endpoint("ftp://collector"), std::invalid_argument);
  CHECK_THROWS_AS(parse_otlp_endpoint("http://"), std::invalid_argument);
  CHECK_THROWS_AS(parse_otlp_endpoint("http:///v1/traces"), std::invalid_argument);
}
