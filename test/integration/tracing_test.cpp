// --otlp-endpoint (README "Traces"): spans for requests and their backend
// attempts arrive at an OTLP/HTTP receiver, and backends get the attempt's
// traceparent. The receiver is an httplib::Server in the test.
#include <catch2/catch.hpp>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "test/support/eventually.h"
#include "test/support/free_port.h"
#include "test/support/h2_client.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/recording_backend.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kClientSpan = "00f067aa0ba902b7";

// Records the spans POSTed to /v1/traces.
class OtlpReceiver {
 public:
  OtlpReceiver() {
    server_.Post("/v1/traces", [this](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard<std::mutex> lock(mutex_);
      content_types_.push_back(request.get_header_value("Content-Type"));
      const json body = json::parse(request.body);  // kept: a range-for would drop a temporary
      for (const auto& resource : body["resourceSpans"]) {
        for (const auto& scope : resource["scopeSpans"]) {
          for (const auto& span : scope["spans"]) spans_.push_back(span);
        }
      }
      response.status = 200;
      response.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });  // bound and listening already
  }
  ~OtlpReceiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<json> spans() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return spans_;
  }
  std::vector<json> spans_of(const std::string& trace_id) const {
    std::vector<json> found;
    for (const json& span : spans()) {
      if (span["traceId"] == trace_id) found.push_back(span);
    }
    return found;
  }
  std::vector<std::string> content_types() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return content_types_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<json> spans_;                // guards: mutex_
  std::vector<std::string> content_types_;  // guards: mutex_
};

// The attribute `key`'s value object ({} when the span has none).
json attribute(const json& span, const std::string& key) {
  for (const auto& item : span["attributes"]) {
    if (item["key"] == key) return item["value"];
  }
  return json::object();
}

std::vector<json> of_kind(const std::vector<json>& spans, int kind) {
  std::vector<json> found;
  for (const json& span : spans) {
    if (span["kind"] == kind) found.push_back(span);
  }
  return found;
}

// The span ids in the `traceparent` lines `received` holds, in order.
std::vector<std::string> traceparents(const std::string& received) {
  std::vector<std::string> found;
  for (size_t at = received.find("traceparent: "); at != std::string::npos;
       at = received.find("traceparent: ", at + 1)) {
    found.push_back(received.substr(at + 13, received.find("\r\n", at) - at - 13));
  }
  return found;
}

// Every trace's request span came: its attempts' spans, ended and sent before it, came too.
bool request_spans_arrived(const OtlpReceiver& receiver, const std::vector<std::string>& traces) {
  for (const std::string& trace : traces) {
    if (of_kind(receiver.spans_of(trace), 2).empty()) return false;
  }
  return true;
}

std::string traceparent_of(const std::string& trace, const std::string& span) { return "00-" + trace + "-" + span + "-01"; }

double metric(LoadBalancerProcess& lb, const std::string& sample) {
  const std::string text = http_request(lb.admin_port(), build_request("GET", "/metrics")).body;
  const size_t at = text.find("\n" + sample + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + sample.size() + 2));
}

}  // namespace

TEST_CASE("traces: the client's trace is continued and the backend gets the attempt's traceparent",
          "[integration][traces]") {
  OtlpReceiver receiver;
  RecordingBackend backend;
  LoadBalancerProcess lb({backend.url()}, {"--otlp-endpoint", receiver.url()});
  const RawResponse response = http_get(lb.port(), "/shop/cart?item=3",
                                        {{"traceparent", traceparent_of(kTrace, kClientSpan)},
                                         {"tracestate", "congo=t61rcWkgMzE"}, {"tracestate", "rojo=1"}});
  REQUIRE(response.status == 200);
  REQUIRE(eventually([&] { return receiver.spans_of(kTrace).size() == 2; }, 5s));
  const json server = of_kind(receiver.spans_of(kTrace), 2).at(0);
  const json client = of_kind(receiver.spans_of(kTrace), 3).at(0);
  CHECK(server["parentSpanId"] == kClientSpan);
  CHECK(server["name"] == "GET");
  CHECK(attribute(server, "http.request.method")["stringValue"] == "GET");
  CHECK(attribute(server, "url.path")["stringValue"] == "/shop/cart");
  CHECK(attribute(server, "client.address")["stringValue"] == "127.0.0.1");
  CHECK(attribute(server, "http.response.status_code")["intValue"] == "200");
  CHECK(attribute(server, "lb.pool")["stringValue"] == "default");
  CHECK(attribute(server, "network.protocol.version")["stringValue"] == "1.1");
  CHECK(client["parentSpanId"] == server["spanId"]);
  CHECK(attribute(client, "lb.backend.url")["stringValue"] == backend.url());
  CHECK(attribute(client, "server.port")["intValue"] == std::to_string(backend.port()));
  CHECK(attribute(client, "lb.attempt")["intValue"] == "1");
  CHECK(attribute(client, "http.response.status_code")["intValue"] == "200");
  // The backend sees the attempt as its parent, and the client's tracestate; not the client's own traceparent.
  const std::string received = backend.received();
  CHECK(traceparents(received) == std::vector<std::string>{traceparent_of(kTrace, client["spanId"])});
  CHECK_THAT(received, Catch::Contains("tracestate: congo=t61rcWkgMzE,rojo=1\r\n"));
  CHECK_THAT(received, !Catch::Contains(kClientSpan));
  CHECK(receiver.content_types().at(0) == "application/json");

  // Without a traceparent (or with a malformed one) a trace starts here.
  REQUIRE(http_get(lb.port(), "/", {{"traceparent", "00-" + kTrace + "-" + kClientSpan + "-1"},
                                    {"tracestate", "dropped=1"}}).status == 200);
  const std::vector<std::string> sent = traceparents(backend.received());
  REQUIRE(sent.size() == 2);
  const std::string new_trace = sent[1].substr(3, 32);
  CHECK(new_trace != kTrace);
  CHECK(sent[1].substr(53) == "01");  // sampled
  CHECK_THAT(backend.received(), !Catch::Contains("dropped=1"));
  // Stopping sends what is buffered: the new trace's spans arrive by the exit.
  lb.process().signal(SIGTERM);
  REQUIRE(lb.process().wait_exit(5s) == 0);
  const std::vector<json> spans = receiver.spans_of(new_trace);
  REQUIRE(spans.size() == 2);
  const json root = of_kind(spans, 2).at(0);
  CHECK_FALSE(root.contains("parentSpanId"));
  CHECK(of_kind(spans, 3).at(0)["parentSpanId"] == root["spanId"]);
}

TEST_CASE("traces: a retry is a second attempt span under the same request span", "[integration][traces]") {
  OtlpReceiver receiver;
  auto refusing = std::make_unique<RecordingBackend>();
  RecordingBackend working;
  const std::string refusing_url = refusing->url();
  LoadBalancerProcess lb({refusing_url, working.url()},
                         {"--otlp-endpoint", receiver.url(), "--health-interval", "60"});
  refusing.reset();  // its port now refuses connections; the health checker has not noticed
  const std::vector<std::string> traces = {std::string(31, 'a') + "1", std::string(31, 'a') + "2"};
  for (const std::string& trace : traces) {
    REQUIRE(http_get(lb.port(), "/", {{"traceparent", traceparent_of(trace, kClientSpan)}}).status == 200);
  }
  REQUIRE(eventually([&] { return request_spans_arrived(receiver, traces); }, 5s));
  const std::vector<json> retried =
      receiver.spans_of(traces[0]).size() == 3 ? receiver.spans_of(traces[0]) : receiver.spans_of(traces[1]);
  REQUIRE(retried.size() == 3);
  const json server = of_kind(retried, 2).at(0);
  const std::vector<json> attempts = of_kind(retried, 3);
  REQUIRE(attempts.size() == 2);
  const json& first = attribute(attempts[0], "lb.attempt")["intValue"] == "1" ? attempts[0] : attempts[1];
  const json& second = &first == &attempts[0] ? attempts[1] : attempts[0];
  CHECK(first["parentSpanId"] == server["spanId"]);
  CHECK(second["parentSpanId"] == server["spanId"]);
  CHECK(attribute(first, "lb.backend.url")["stringValue"] == refusing_url);
  CHECK(attribute(first, "error.type")["stringValue"] == "connection refused");
  CHECK(first["status"]["code"] == 2);
  CHECK(attribute(second, "lb.attempt")["intValue"] == "2");
  CHECK(attribute(second, "http.response.status_code")["intValue"] == "200");
  CHECK(attribute(server, "http.response.status_code")["intValue"] == "200");
  // The backend that answered saw the second attempt's span id.
  CHECK_THAT(working.received(), Catch::Contains(traceparent_of(server["traceId"], second["spanId"])));
}

TEST_CASE("traces: a hedged attempt carries its own span, marked lb.hedge", "[integration][traces]") {
  OtlpReceiver receiver;
  RecordingBackend slow("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow", 600ms);
  RecordingBackend fast("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfast");
  LoadBalancerProcess lb({slow.url(), fast.url()}, {"--otlp-endpoint", receiver.url(), "--hedge-after", "50"});
  const std::vector<std::string> traces = {std::string(31, 'b') + "1", std::string(31, 'b') + "2"};
  for (const std::string& trace : traces) {  // round-robin: one of them goes to the slow backend first
    REQUIRE(http_get(lb.port(), "/", {{"traceparent", traceparent_of(trace, kClientSpan)}}).body == "fast");
  }
  REQUIRE(eventually([&] { return request_spans_arrived(receiver, traces); }, 5s));
  // Whichever request went to the slow backend first was hedged (perhaps both were).
  const std::vector<json> hedged =
      receiver.spans_of(traces[0]).size() == 3 ? receiver.spans_of(traces[0]) : receiver.spans_of(traces[1]);
  const json server = of_kind(hedged, 2).at(0);
  const std::vector<json> attempts = of_kind(hedged, 3);
  REQUIRE(attempts.size() == 2);
  const json& hedge = attribute(attempts[0], "lb.hedge") == json{{"boolValue", true}} ? attempts[0] : attempts[1];
  const json& first = &hedge == &attempts[0] ? attempts[1] : attempts[0];
  CHECK(attribute(hedge, "lb.hedge")["boolValue"] == true);
  CHECK(attribute(hedge, "lb.backend.url")["stringValue"] == fast.url());
  CHECK(attribute(hedge, "http.response.status_code")["intValue"] == "200");
  CHECK(attribute(first, "lb.hedge") == json::object());
  CHECK(attribute(first, "lb.outcome")["stringValue"] == "lost the hedge race");
  CHECK(hedge["parentSpanId"] == server["spanId"]);
  CHECK(first["parentSpanId"] == server["spanId"]);
  // Each backend was sent its own attempt's span id.
  CHECK_THAT(slow.received(), Catch::Contains(traceparent_of(server["traceId"], first["spanId"])));
  CHECK_THAT(fast.received(), Catch::Contains(traceparent_of(server["traceId"], hedge["spanId"])));
}

TEST_CASE("traces: with the receiver down requests are served and the loss counted", "[integration][traces]") {
  RecordingBackend backend;
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(free_port());
  LoadBalancerProcess lb({backend.url()}, {"--otlp-endpoint", nowhere, "--admin-port", "0"});
  for (int i = 0; i < 3; ++i) REQUIRE(http_get(lb.port()).status == 200);
  CHECK(eventually([&] { return metric(lb, "lb_trace_export_failures_total") >= 1; }, 5s));
  CHECK(metric(lb, "lb_trace_spans_dropped_total") >= 6);  // 3 request and 3 attempt spans
  CHECK(metric(lb, "lb_trace_spans_exported_total") == 0);
  REQUIRE(http_get(lb.port()).status == 200);
  CHECK(eventually([&] { return metric(lb, "lb_trace_export_failures_total") >= 2; }, 5s));
  size_t complaints = 0;
  for (const std::string& line : lb.process().lines()) complaints += line.find("[Traces] export") != std::string::npos;
  CHECK(complaints == 1);  // logged once while it keeps failing
}

TEST_CASE("traces: an HTTP/2 request gets its spans too", "[integration][traces]") {
  OtlpReceiver receiver;
  RecordingBackend backend;
  LoadBalancerProcess lb({backend.url()}, {"--otlp-endpoint", receiver.url(), "--h2c"});
  H2Client client(lb.port());
  const std::string trace = std::string(31, 'c') + "1";
  const int32_t id = client.get("/h2", {{"traceparent", traceparent_of(trace, kClientSpan)}});
  REQUIRE(client.run_until([&] { return client.responses[id].closed; }));
  CHECK(client.responses[id].status == 200);
  REQUIRE(eventually([&] { return receiver.spans_of(trace).size() == 2; }, 5s));
  const json server = of_kind(receiver.spans_of(trace), 2).at(0);
  CHECK(server["parentSpanId"] == kClientSpan);
  CHECK(attribute(server, "network.protocol.version")["stringValue"] == "2");
  CHECK(attribute(server, "url.path")["stringValue"] == "/h2");
  const json client_span = of_kind(receiver.spans_of(trace), 3).at(0);
  CHECK_THAT(backend.received(), Catch::Contains(traceparent_of(trace, client_span["spanId"])));
}
