// ProxyConnection, part 2: the decisions around forwarding (the settings a
// request runs with, a PROXY header refused, step 2b rate limit, step 3
// route, step 4 backend choice with sticky cookie and circuit breaker, step 5a
// injected faults, step 7 breaker outcome) and what is recorded about a
// request (request id, trace, access log, live request view).
// The request path itself reads top to bottom in proxy_connection.cpp.
#include "lb/proxy/proxy_connection.h"

#include <thread>

#include "lb/balancing/event_log.h"
#include "lb/http/http_headers.h"
#include "lb/http/message_rules.h"
#include "lb/http/request_id.h"
#include "lb/protection/trusted_proxies.h"
#include "lb/transport/proxy_protocol.h"

namespace lb {

// A reload (SIGHUP) applies from the next request head on (its wait uses the
// settings before it); the head size limit, which the parsers were built
// with, from the next connection on.
void ProxyConnection::refresh_settings() {
  if (live_generation_ == context_.live.generation()) return;
  live_generation_ = context_.live.generation();
  live_ = context_.live.current();
  settings_ = live_->proxy;
  via_header_ = "Via: 1.1 " + settings_.via_name + "\r\n";
}

// Before the first request: a peer not in --proxy-protocol-from that starts
// with a PROXY header would choose its own address. Closed unanswered.
bool ProxyConnection::sends_proxy_header() {
  ProxyPrefix prefix = classify_proxy_prefix(buffers_->client(), client_end_);
  if (prefix == ProxyPrefix::Yes) {
    context_.proxy_header_refusals.note(client_ip_, "PROXY header", "peer not in --proxy-protocol-from");
    return true;
  }
  refuse_proxy_header_ = prefix == ProxyPrefix::Maybe;  // a few more bytes decide
  return false;
}

// Step 2b: per-client token bucket. Answers 429 itself and returns false when over the limit.
bool ProxyConnection::admit_by_rate_limit() {
  if (!live_->rate_limiter) return true;
  const MessageHead& request = request_parser_.head();
  std::string forwarded_for;
  if (!live_->trusted_proxies.empty()) {
    for (size_t i = 0; i < request.fields.size(); ++i) {
      if (!iequals(request.name(i), "x-forwarded-for")) continue;
      if (!forwarded_for.empty()) forwarded_for += ",";
      forwarded_for.append(request.value(i));
    }
  }
  RateDecision decision =
      live_->rate_limiter->admit(client_address(client_ip_, forwarded_for, live_->trusted_proxies));
  if (decision.allowed) return true;
  context_.metrics.rate_limited.fetch_add(1, std::memory_order_relaxed);
  std::string headers = "Retry-After: " + std::to_string(decision.retry_after_seconds) +
                        "\r\nRateLimit-Limit: " + std::to_string(decision.limit) +
                        "\r\nRateLimit-Remaining: " + std::to_string(decision.remaining) +
                        "\r\nRateLimit-Reset: " + std::to_string(decision.reset_seconds) + "\r\n";
  reply_error(429, "too many requests", !request_fully_read(), headers);
  return false;
}

// Step 2c: --request-id-header. The client's id is kept; a request without
// one gets a fresh random id, which the backend is sent too.
void ProxyConnection::note_request_id() {
  if (settings_.request_id_header.empty()) return;
  request_id_ = std::string(find_header(request_parser_.head(), settings_.request_id_header));
  request_id_is_new_ = request_id_.empty();
  if (request_id_is_new_) request_id_ = random_request_id();
  trace_.set_request_id(request_id_);
}

// Step 3: the first route matching the request's host and path names its
// pool; without routes every request goes to the pool "default".
bool ProxyConnection::route_request() {
  // Pools and routes change rarely (admin API, reload): load them only then.
  if (!topology_ || topology_generation_ != context_.balancer.generation()) {
    topology_generation_ = context_.balancer.generation();
    topology_ = context_.balancer.current();
  }
  routed_target_.clear();
  if (topology_->router.empty()) {  // the tutorial's set-up: one pool, no routes
    pool_ = topology_->default_pool;
    return pool_ != nullptr;
  }
  const MessageHead& request = request_parser_.head();
  route_ = topology_->router.match(request_host(request), request.view(request.target));
  if (!route_) return false;
  pool_ = topology_->pools[route_->pool_index].get();
  if (route_->strip_prefix && !route_->path.empty()) {
    routed_target_ = strip_path_prefix(request.view(request.target), route_->path);
  }
  trace_.set_route(route_->match_text(), pool_->settings.name);
  return true;
}

// Step 4: the pinned backend while it can take the request, else the algorithm's
// choice; then the backend's circuit breaker must admit the request.
std::shared_ptr<Backend> ProxyConnection::choose_backend(SelectionContext& selection,
                                                         const std::shared_ptr<Backend>& pinned) {
  for (;;) {
    if (settings_.trace_header || context_.request_log) trace_.note_candidates(*pool_, selection);
    std::shared_ptr<Backend> backend =
        pinned && is_eligible(*pinned, selection) ? pinned : pool_->selector->pick(selection);
    if (pool_->sticky) {
      trace_.set_sticky(!sticky_cookie_seen_ ? "miss (no cookie)"
                        : !pinned            ? "miss (unknown value)"
                        : backend == pinned  ? "hit"
                                             : "miss (pinned backend unavailable)");
    }
    if (!backend) return nullptr;
    CircuitTransition transition;
    breaker_ticket_ = backend->passive_health().admit(&transition);
    if (transition.changed) log_circuit_change(*backend, transition);
    if (!breaker_ticket_) {  // another thread took the last half-open trial slot
      selection.avoid.push_back(backend.get());
      continue;
    }
    trace_.note_chosen(*backend);
    sticky_set_cookie_.clear();
    if (pool_->sticky && backend != pinned) {
      sticky_set_cookie_ = pool_->sticky->set_cookie_value(*backend, std::string_view(forwarded_proto_) == "https");
    }
    return backend;
  }
}

// Step 7: passive health (the breaker, then outlier ejection: see
// lb/balancing/passive_health.h) and the retry counters learn how the attempt
// went (failures: connect errors, timeouts, broken responses, 5xx).
void ProxyConnection::record_outcome(Backend& backend, bool success, bool budgeted_retry) {
  const auto now = Backend::Clock::now();
  const AttemptVerdict verdict =
      backend.passive_health().record(breaker_ticket_, success, context_.ejector.after(), now);
  if (verdict.circuit.changed) {
    log_circuit_change(backend, verdict.circuit);
    if (verdict.circuit.to == CircuitState::Closed) backend.start_ramp(now);  // back in service: slow start
  }
  if (!success) backend.failures_total.fetch_add(1, std::memory_order_relaxed);
  if (verdict.ejection_due) {
    std::chrono::milliseconds ejected_for = context_.ejector.eject(backend, pool_->backends, now);
    if (ejected_for.count() > 0) log_ejection(backend, ejected_for, verdict.failures_in_a_row);
  }
  if (budgeted_retry) {
    (success ? context_.metrics.retries_succeeded : context_.metrics.retries_failed)
        .fetch_add(1, std::memory_order_relaxed);
  }
}

// Step 7 when no backend answered: 504 after a timeout, an injected fault's
// status after an injected abort, else 502.
bool ProxyConnection::reply_unreachable(const Attempt& last) {
  if (last.outcome == Outcome::InjectedAbort) return reply_error(last.status, "injected fault", !request_fully_read());
  if (last.outcome == Outcome::Timeout) return reply_error(504, "backend did not respond in time", !request_fully_read());
  return reply_error(502, "backend unavailable: " + last.detail, !request_fully_read());
}

// Step 5a: an injected fault (admin API) plays a slow or failing backend on our
// side, so any service can be broken in a workshop. A delay counts against the
// attempt's wait for a first byte, as a slow backend's would; an abort never
// contacts the backend. False: go on and forward; true: `ended` says how it ended.
bool ProxyConnection::apply_fault(Backend& backend, Attempt& ended) {
  const std::optional<FaultSettings> fault = backend.fault();
  if (!fault) return false;
  const auto now = std::chrono::steady_clock::now();
  const auto first_byte_deadline = now + first_byte_wait_;
  const FaultPlan plan = plan_fault(*fault, [this] { return unit_random_(random_); }, now, first_byte_deadline);
  if (plan.delay.count() > 0) {
    backend.faults_delayed.fetch_add(1, std::memory_order_relaxed);
    trace_.note_delay(backend, plan.delay);
    std::this_thread::sleep_until(plan.times_out ? first_byte_deadline : plan.forward_at);
    if (plan.times_out) {
      ended = {Outcome::Timeout, "timeout (injected delay)"};
      return true;
    }
    first_byte_wait_ = std::max(Millis(1), first_byte_wait_ - plan.delay);
  }
  if (!plan.abort) return false;
  backend.faults_aborted.fetch_add(1, std::memory_order_relaxed);
  ended = {Outcome::InjectedAbort, "injected fault (" + std::to_string(plan.abort_status) + ")", plan.abort_status};
  return true;
}

// The backend the client's sticky cookie names, if any (forged or stale: none).
std::shared_ptr<Backend> ProxyConnection::pinned_backend() {
  if (!pool_->sticky) return nullptr;
  const MessageHead& request = request_parser_.head();
  for (size_t i = 0; i < request.fields.size(); ++i) {
    if (!iequals(request.name(i), "cookie")) continue;
    std::string_view value = pool_->sticky->find_in(request.value(i));
    if (!value.empty()) {
      sticky_cookie_seen_ = true;
      return pool_->sticky->backend_for(value);
    }
  }
  return nullptr;
}

void ProxyConnection::append_trace(std::string& out) const {
  if (!settings_.trace_header || !pool_) return;
  append_header(out, "X-LB-Trace", trace_.header_value(pool_->selector->name()));
}

void ProxyConnection::write_access_log(const std::string& time, double seconds) {
  const MessageHead& request = request_parser_.head();
  AccessRecord record;
  record.client = client_ip_;
  record.time = time;
  record.request_line = std::string(request.view(request.method)) + " " + std::string(request.view(request.target)) +
                        " HTTP/" + std::to_string(request.http_major) + "." + std::to_string(request.http_minor);
  record.status = status_sent_;
  record.bytes = body_bytes_sent_;
  record.referer = std::string(find_header(request, "referer"));
  record.user_agent = std::string(find_header(request, "user-agent"));
  record.backend = answered_by_;
  record.pool = pool_ ? pool_->settings.name : "";
  record.request_id = request_id_;
  record.seconds = seconds;
  record.upstream_seconds = upstream_seconds_;
  record.tried = trace_.tried();
  context_.access_log->write(record);
}

// The live request view (admin GET /requests): what happened, in words.
void ProxyConnection::record_request(std::chrono::system_clock::time_point time, double seconds) {
  const MessageHead& request = request_parser_.head();
  RequestRecord record;
  record.time = time;
  record.client = client_ip_;
  record.method = std::string(request.view(request.method));
  record.target = std::string(request.view(request.target));
  record.status = status_sent_;
  record.pool = pool_ ? pool_->settings.name : "";
  record.backend = answered_by_;
  record.duration_ms = seconds * 1000;
  record.request_id = request_id_;
  if (pool_) {
    record.trace = trace_.in_words(pool_->selector->name());
  } else {  // answered before a pool was chosen
    record.trace = status_sent_ == 404 ? "no route for this request"
                   : status_sent_ == 429 ? "over the rate limit"
                                         : "refused before routing";
  }
  context_.request_log->add(std::move(record));
}

}  // namespace lb
