#include "lb/operations/request_spans.h"

namespace lb {

RequestSpans::RequestSpans(const MessageHead& request, const RequestSpanFacts& facts, const RandomSource& random,
                           Time now)
    : random_(random), incoming_(incoming_trace(request, random)) {
  request_.trace_id = incoming_.trace_id;
  request_.span_id = random_trace_id(16, random);
  request_.parent_span_id = incoming_.parent_span_id;
  request_.name = std::string(facts.method);
  request_.kind = SpanKind::Server;
  request_.start_unix_nanos = unix_nanos(now);
  request_.attributes = {
      {"http.request.method", std::string(facts.method)},
      {"url.path", std::string(facts.path)},
      {"server.address", std::string(facts.host)},
      {"client.address", std::string(facts.client_address)},
      {"network.protocol.version", std::string(facts.protocol_version)},
  };
}

size_t RequestSpans::open_attempt(const AttemptTarget& target, bool hedge, Time now) {
  OpenAttempt attempt;
  TraceSpan& span = attempt.span;
  span.trace_id = incoming_.trace_id;
  span.span_id = random_trace_id(16, random_);
  span.parent_span_id = request_.span_id;
  span.name = request_.name.substr(0, request_.name.find(' '));  // the method
  span.kind = SpanKind::Client;
  span.start_unix_nanos = unix_nanos(now);
  span.attributes = {
      {"http.request.method", span.name},
      {"server.address", std::string(target.host)},
      {"server.port", static_cast<int64_t>(target.port)},
      {"lb.backend.url", std::string(target.url)},
      {"lb.attempt", static_cast<int64_t>(attempts_.size() + 1)},
  };
  if (hedge) span.attributes.push_back({"lb.hedge", true});
  attempt.traceparent = format_traceparent(span.trace_id, span.span_id, incoming_.flags);
  attempts_.push_back(std::move(attempt));
  return attempts_.size() - 1;
}

void RequestSpans::end_attempt(size_t attempt, int status, std::string_view error_type, std::string_view note,
                               Time now, SpanSink& sink) {
  OpenAttempt& open = attempts_[attempt];
  if (!open.open) return;
  open.open = false;
  TraceSpan& span = open.span;
  span.end_unix_nanos = unix_nanos(now);
  if (status > 0) span.attributes.push_back({"http.response.status_code", static_cast<int64_t>(status)});
  if (!error_type.empty()) span.attributes.push_back({"error.type", std::string(error_type)});
  if (!note.empty()) span.attributes.push_back({"lb.outcome", std::string(note)});
  // A client span fails on 4xx too (OpenTelemetry's HTTP conventions).
  span.error = !error_type.empty() || status >= 400;
  sink.push(std::move(span));
}

void RequestSpans::end_request(int status, std::string_view route, std::string_view pool, Time now,
                               SpanSink& sink) {
  for (size_t i = 0; i < attempts_.size(); ++i) end_attempt(i, 0, "", "unfinished", now, sink);
  request_.end_unix_nanos = unix_nanos(now);
  if (!route.empty()) {
    request_.name.append(" ").append(route);
    request_.attributes.push_back({"http.route", std::string(route)});
  }
  if (!pool.empty()) request_.attributes.push_back({"lb.pool", std::string(pool)});
  if (status > 0) {
    request_.attributes.push_back({"http.response.status_code", static_cast<int64_t>(status)});
  } else {
    request_.attributes.push_back({"error.type", std::string("client gone")});
  }
  // A server span fails on 5xx only: a 4xx is the client's error.
  request_.error = status >= 500 || status == 0;
  sink.push(std::move(request_));
}

}  // namespace lb
