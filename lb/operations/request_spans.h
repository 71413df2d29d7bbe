// One request's spans (README "Traces"): a SERVER span for the request,
// continuing the client's W3C trace or starting one, and a CLIENT span per
// backend attempt (a retry, a hedge), each the parent the backend is told
// of in its `traceparent`. Made only with --otlp-endpoint; an ended span goes
// to the SpanExporter at once.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "lb/http/message_head.h"
#include "lb/http/trace_context.h"
#include "lb/operations/span_exporter.h"

namespace lb {

// What the request span says about the request as it arrived.
struct RequestSpanFacts {
  std::string_view method;
  std::string_view path;              // the target without its query
  std::string_view host;              // Host (or the absolute-form authority)
  std::string_view client_address;
  std::string_view protocol_version;  // "1.1", "2"
};

// Where an attempt went.
struct AttemptTarget {
  std::string_view host;
  int port = 0;
  std::string_view url;
};

class RequestSpans {
 public:
  using Time = std::chrono::system_clock::time_point;
  RequestSpans(const MessageHead& request, const RequestSpanFacts& facts, const RandomSource& random, Time now);

  const IncomingTrace& incoming() const { return incoming_; }
  const std::string& request_span_id() const { return request_.span_id; }

  // A CLIENT span begins; returns its number for the calls below.
  size_t open_attempt(const AttemptTarget& target, bool hedge, Time now);
  // The `traceparent` the attempt's backend is sent: this attempt's span as parent.
  const std::string& traceparent(size_t attempt) const { return attempts_[attempt].traceparent; }
  // Ends an attempt (once; later calls do nothing): `status` its backend's
  // answer (0: none), `error_type` why it failed ("" when it did not),
  // `note` a further attribute (lb.outcome) when not empty.
  void end_attempt(size_t attempt, int status, std::string_view error_type, std::string_view note, Time now,
                   SpanSink& sink);

  // Ends the request span: `status` sent to the client (0: none, the client
  // left), `route` the matched route's path ("" none), `pool` ("" none).
  // Attempts still open end with it.
  void end_request(int status, std::string_view route, std::string_view pool, Time now, SpanSink& sink);

 private:
  struct OpenAttempt {
    TraceSpan span;
    std::string traceparent;
    bool open = true;
  };

  const RandomSource& random_;
  IncomingTrace incoming_;
  TraceSpan request_;
  std::vector<OpenAttempt> attempts_;
};

}  // namespace lb
