// Exchange, part 5: its spans (README "Traces"), only with --otlp-endpoint:
// without it `spans_` stays empty and each call here is one test of it.
// The request span begins in run() and ends after account(); an attempt's
// span wraps attempt() (a hedge's, race_hedge()), and its id is the parent
// the backend reads in `traceparent` (connect()).
#include <openssl/rand.h>

#include "lb/http/message_rules.h"
#include "lb/routing/router.h"
#include "lb/proxy/exchange.h"
#include "lb/proxy/upstream_request_head.h"

namespace lb {

namespace {

// Trace and span ids: OpenSSL's CSPRNG, so ids from several instances never collide.
uint64_t random_bits() {
  uint64_t bits = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&bits), sizeof bits) != 1) {
    bits = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  return bits;
}

const RandomSource& span_random() {
  static const RandomSource source = random_bits;
  return source;
}

// "HTTP/1.1" -> "1.1", "HTTP/2.0" -> "2" (OpenTelemetry's network.protocol.version).
std::string_view protocol_version(std::string_view protocol) {
  if (protocol.rfind("HTTP/", 0) == 0) protocol.remove_prefix(5);
  return protocol == "2.0" ? "2" : protocol;
}

// OpenTelemetry's error.type for an attempt that failed: short and low in cardinality.
std::string error_type(const AttemptFacts& facts) {
  switch (facts.end) {
    case AttemptEnd::Answered: return "";
    case AttemptEnd::CannotConnect: return facts.detail.empty() ? "cannot connect" : facts.detail;
    case AttemptEnd::NoResponse: return "no response";
    case AttemptEnd::BadGateway: return "bad response";
    case AttemptEnd::Timeout: return "timeout";
    case AttemptEnd::InjectedAbort: return "injected fault";
    case AttemptEnd::BodyTooLarge: return "request body too large";
    case AttemptEnd::BadRequestBody: return "bad request body";
    case AttemptEnd::CutShort: return "cut short";
    case AttemptEnd::RetryStatus: return std::to_string(facts.status);
  }
  return "error";
}

}  // namespace

void Exchange::begin_spans() {
  if (!context_.spans) return;
  const std::string protocol = client_.protocol();
  RequestSpanFacts facts;
  facts.method = request_.view(request_.method);
  facts.path = target_path(request_.view(request_.target));
  facts.host = request_host(request_);
  facts.client_address = setup_.client_ip;
  facts.protocol_version = protocol_version(protocol);
  spans_.emplace(request_, facts, span_random(), std::chrono::system_clock::now());
}

void Exchange::end_spans() {
  if (!spans_) return;
  spans_->end_request(status_sent_, route_ ? std::string_view(route_->path) : std::string_view(),
                      pool_ ? std::string_view(pool_->settings.name) : std::string_view(),
                      std::chrono::system_clock::now(), *context_.spans);
}

void Exchange::open_attempt_span(const Backend& backend, bool hedge) {
  if (!spans_) return;
  const AttemptTarget target{backend.spec.host, backend.spec.port, backend.url};
  attempt_span_ = spans_->open_attempt(target, hedge, std::chrono::system_clock::now());
}

void Exchange::end_attempt_span(size_t attempt, const AttemptFacts& facts, std::string_view note) {
  if (!spans_) return;
  const int status = facts.end == AttemptEnd::Answered || facts.end == AttemptEnd::RetryStatus ? facts.status : 0;
  spans_->end_attempt(attempt, status, error_type(facts), note, std::chrono::system_clock::now(), *context_.spans);
}

// race_hedge()'s ending for the spans: the hedge's span ends unless it won
// (`hedge_failed`: it could not be sent); the winner's stays open.
void Exchange::settle_hedge_spans(size_t first_span, bool hedge_won, const AttemptFacts* hedge_failed) {
  if (!spans_) return;
  const AttemptFacts answered;  // no error: the loser was simply not waited for
  if (hedge_won) {
    end_attempt_span(first_span, answered, "lost the hedge race");
    return;
  }
  end_attempt_span(attempt_span_, hedge_failed ? *hedge_failed : answered, hedge_failed ? "" : "lost the hedge race");
  attempt_span_ = first_span;
}

void Exchange::add_trace_fields(UpstreamHeadOptions& options) const {
  if (!spans_) return;
  options.traceparent = spans_->traceparent(attempt_span_);
  options.tracestate = spans_->incoming().tracestate;
}

}  // namespace lb
