// Exchange, part 4: what an exchange tells others. Step 8: the backend's
// passive health and the retry counters learn how an attempt went
// (release()); metrics, the access log and the live request view learn how
// the request went (account()). Also the fields of ours every answer carries.
#include "lb/balancing/event_log.h"
#include "lb/http/error_response.h"
#include "lb/http/http_headers.h"
#include "lb/proxy/exchange.h"

namespace lb {

// Step 8 for one attempt: passive health (the breaker, then outlier
// ejection: see lb/balancing/passive_health.h), mark-down, and the counters.
void Exchange::release(Backend& backend, const Choice& choice, const AttemptFacts& facts, const Verdict& verdict,
                       bool budgeted_retry) {
  const bool success = !verdict.backend_failed;
  const auto now = Backend::Clock::now();
  const AttemptVerdict health = backend.passive_health().record(choice.ticket, success, context_.ejector.after(), now);
  if (health.circuit.changed) {
    log_circuit_change(backend, health.circuit);
    if (health.circuit.to == CircuitState::Closed) backend.start_ramp(now);  // back in service: slow start
  }
  if (!success) backend.failures_total.fetch_add(1, std::memory_order_relaxed);
  if (health.ejection_due) {
    const std::chrono::milliseconds ejected_for = context_.ejector.eject(backend, pool_->backends, now);
    if (ejected_for.count() > 0) log_ejection(backend, ejected_for, health.failures_in_a_row);
  }
  if (!success) trace_.note_failure(backend, facts.detail);
  if (verdict.mark_down && backend.mark_down(facts.detail + " while proxying")) {
    log_health_change(backend, false, facts.detail + " while proxying");
  }
  if (facts.end == AttemptEnd::Answered) {
    backend.responses_by_class[status_sent_ / 100 % 6].fetch_add(1, std::memory_order_relaxed);
  }
  if (budgeted_retry) {
    (success ? context_.metrics.retries_succeeded : context_.metrics.retries_failed)
        .fetch_add(1, std::memory_order_relaxed);
  }
}

// Our own answer (400, 404, 429, 502, ...), with Via, the request id and the trace.
bool Exchange::reply(int status, const std::string& message, bool close, ExtraFields fields) {
  status_sent_ = status;
  fields.emplace_back("Via", std::string(setup_.via_value));
  if (!request_id_.empty()) fields.emplace_back(settings_.request_id_header, request_id_);
  if (std::string trace = trace_value(); !trace.empty()) fields.emplace_back("X-LB-Trace", std::move(trace));
  const std::string body = error_body(message);
  body_bytes_sent_ = body.size();
  return client_.reply(status, body, close, fields);
}

// Our fields on a backend's response (the head itself: client_response_head.h).
ClientHeadOptions Exchange::response_options(const std::string& set_cookie) const {
  ClientHeadOptions options;
  options.via_value = setup_.via_value;
  options.rules = route_ && !route_->response_headers.empty() ? &route_->response_headers : nullptr;
  if (!request_id_.empty()) {
    options.request_id_header = settings_.request_id_header;
    options.request_id = request_id_;
  }
  options.sticky_set_cookie = set_cookie;
  options.client_http11 = request_.http_minor >= 1;
  return options;
}

std::string Exchange::trace_value() const {
  if (!settings_.trace_header || (!pool_ && !trace_.refused())) return "";
  if (!pool_) return trace_.header_value("");  // refused by --allow/--deny, before routing
  return trace_.header_value(pool_->selector->name());
}

void Exchange::account(Clock::time_point started, std::chrono::system_clock::time_point started_wall,
                       const std::string& started_text) {
  if (status_sent_ == 0) return;  // nothing was answered (the client left first)
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  context_.metrics.observe_response(status_sent_, seconds);
  if (context_.access_log) write_access_log(started_text, seconds);
  if (context_.request_log) record_request(started_wall, seconds);
}

void Exchange::write_access_log(const std::string& time, double seconds) {
  AccessRecord record;
  record.client = std::string(setup_.client_ip);
  record.time = time;
  record.request_line = std::string(request_.view(request_.method)) + " " +
                        std::string(request_.view(request_.target)) + " " + client_.protocol();
  record.status = status_sent_;
  record.bytes = body_bytes_sent_;
  record.referer = std::string(find_header(request_, "referer"));
  record.user_agent = std::string(find_header(request_, "user-agent"));
  record.backend = answered_by_;
  record.pool = pool_ ? pool_->settings.name : "";
  record.request_id = request_id_;
  record.seconds = seconds;
  record.upstream_seconds = upstream_seconds_;
  record.tried = trace_.tried();
  context_.access_log->write(record);
}

// The live request view (admin GET /requests): what happened, in words.
void Exchange::record_request(std::chrono::system_clock::time_point time, double seconds) {
  RequestRecord record;
  record.time = time;
  record.client = std::string(setup_.client_ip);
  record.method = std::string(request_.view(request_.method));
  record.target = std::string(request_.view(request_.target));
  record.status = status_sent_;
  record.pool = pool_ ? pool_->settings.name : "";
  record.backend = answered_by_;
  record.duration_ms = seconds * 1000;
  record.request_id = request_id_;
  if (pool_ || trace_.refused()) {
    record.trace = trace_.in_words(pool_ ? pool_->selector->name() : "");
  } else {  // answered before a pool was chosen
    record.trace = status_sent_ == 404 ? "no route for this request"
                   : status_sent_ == 429 ? "over the rate limit"
                                         : "refused before routing";
  }
  context_.request_log->add(std::move(record));
}

}  // namespace lb
