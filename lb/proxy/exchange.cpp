// Exchange, part 1: the request's path, top to bottom (the steps are listed
// in exchange.h). The attempt on one backend is in exchange_attempt.cpp, the
// response's relay in exchange_relay.cpp, what is recorded in exchange_record.cpp.
#include "lb/proxy/exchange.h"

#include <algorithm>

#include "common/log.h"
#include "lb/balancing/event_log.h"
#include "lb/http/http_headers.h"
#include "lb/http/message_rules.h"
#include "lb/http/request_id.h"
#include "lb/proxy/retry_policy.h"

namespace lb {

Exchange::Exchange(const ExchangeSetup& setup, ClientSide& client, UpstreamScratch& scratch)
    : setup_(setup),
      context_(setup.context),
      settings_(setup.live.proxy),
      client_(client),
      request_(client.request()),
      scratch_(scratch) {}

bool Exchange::run() {
  const auto started = Clock::now();
  const std::string started_text = context_.access_log ? access_log_time() : std::string();
  const auto started_wall =
      context_.request_log ? std::chrono::system_clock::now() : std::chrono::system_clock::time_point();
  begin_spans();
  const bool keep = serve();
  account(started, started_wall, started_text);
  end_spans();
  return keep;
}

// Step 1, then 2 and 3, before any backend is involved.
bool Exchange::serve() {
  note_request_id();  // first, so that every answer from here on carries it
  if (Refusal refusal = check_request_head(request_)) return reply(refusal.status, refusal.reason, true);
  if (settings_.max_body_bytes != 0 && request_.content_length != kNoContentLength &&
      request_.content_length > settings_.max_body_bytes) {
    return reply(413, "request body larger than " + std::to_string(settings_.max_body_bytes) + " bytes", true);
  }
  risky_body_ = body_framing_is_risky(request_);
  bool expect_found = false;
  const std::string_view expect = find_header(request_, "expect", &expect_found);
  expects_continue_ =
      expect_found && iequals(expect, "100-continue") && request_.has_body() && request_.http_minor >= 1;
  replayable_ = is_replayable(request_.view(request_.method), request_.has_body());

  const RateDecision rate = rate_limit();
  if (!rate.allowed) {
    context_.metrics.rate_limited.fetch_add(1, std::memory_order_relaxed);
    return reply(429, "too many requests", !client_.request_fully_read(),
                 {{"Retry-After", std::to_string(rate.retry_after_seconds)},
                  {"RateLimit-Limit", std::to_string(rate.limit)},
                  {"RateLimit-Remaining", std::to_string(rate.remaining)},
                  {"RateLimit-Reset", std::to_string(rate.reset_seconds)}});
  }
  if (std::optional<bool> refused = check_access(setup_.live.access, "--allow/--deny")) return *refused;
  if (!route()) return reply(404, "no route for this request", !client_.request_fully_read());
  if (std::optional<bool> refused = route_edge_checks()) return *refused;  // exchange_edge.cpp
  return forward_with_retries();
}

// Step 2: the client's token bucket (--rate-limit), keyed by its address.
RateDecision Exchange::rate_limit() {
  const LiveSettings& live = setup_.live;
  if (!live.rate_limiter) return RateDecision{true, 0, 0, 0, 0};
  return live.rate_limiter->admit(client_key());
}

// The client's address as every per-client rule sees it (rate limit, access
// lists, failed logins): the peer's (after a PROXY header), or the one
// X-Forwarded-For names when the peer is a trusted proxy.
const std::string& Exchange::client_key() {
  if (!client_key_.empty()) return client_key_;
  const LiveSettings& live = setup_.live;
  std::string forwarded_for;
  if (!live.trusted_proxies.empty()) {
    for (size_t i = 0; i < request_.fields.size(); ++i) {
      if (!iequals(request_.name(i), "x-forwarded-for")) continue;
      if (!forwarded_for.empty()) forwarded_for += ",";
      forwarded_for.append(request_.value(i));
    }
  }
  client_key_ = client_address(std::string(setup_.client_ip), forwarded_for, live.trusted_proxies);
  return client_key_;
}

// Step 3: the first route matching the request's host and path names its
// pool; without routes every request goes to the pool "default".
bool Exchange::route() {
  const Topology& topology = setup_.topology;
  if (topology.router.empty()) {  // the tutorial's set-up: one pool, no routes
    pool_ = topology.default_pool;
    return pool_ != nullptr;
  }
  route_ = topology.router.match(request_host(request_), request_.view(request_.target));
  if (!route_) return false;
  pool_ = topology.pools[route_->pool_index].get();
  if (route_->strip_prefix && !route_->path.empty()) {
    routed_target_ = strip_path_prefix(request_.view(request_.target), route_->path);
  }
  trace_.set_route(route_->match_text(), pool_->settings.name);
  return true;
}

// Steps 4 to 7, once per backend tried: choose, attempt, judge, and then
// either the client has its answer or the judge sends the request elsewhere.
bool Exchange::forward_with_retries() {
  bool cookie_seen = false;
  const std::shared_ptr<Backend> pinned = pinned_backend(cookie_seen);
  context_.retry_budget.deposit();
  const Clock::time_point deadline =
      Clock::now() + all_tries_timeout(settings_.backend_timeout, settings_.try_timeout, settings_.retries);
  SelectionContext selection;
  int attempts_left = settings_.retries;
  bool budgeted_retry = false;  // this try is a retry the budget paid for (counted in /metrics)
  Verdict last_failure;
  for (;;) {
    selection.now = Clock::now();
    Choice choice = choose(selection, pinned, cookie_seen);
    if (!choice.backend) return refuse_unplaced(choice, last_failure);
    const auto upstream_started = Clock::now();
    // The judge's facts about time and budget (the budget's lock only after a failure).
    const auto judge = [&](AttemptFacts& facts) {
      facts.deadline_passed = Clock::now() >= deadline;
      facts.attempts_left = attempts_left;
      facts.budget_left = facts.end == AttemptEnd::Answered || context_.retry_budget.has_room();
      return judge_attempt(facts);
    };
    may_retry_answer_ = replayable_ && attempts_left > 0 && !settings_.retry_on_status.empty();
    AttemptFacts facts = attempt(choice, first_byte_wait(deadline), /*fresh_connection=*/false);
    Verdict verdict = judge(facts);
    if (verdict.next == Verdict::Next::SameBackendAgain) {
      facts = attempt(choice, first_byte_wait(deadline), /*fresh_connection=*/true);
      verdict = judge(facts);
    }
    Backend& backend = *choice.backend;  // the one that answered (a hedge may have)
    upstream_seconds_ += std::chrono::duration<double>(Clock::now() - upstream_started).count();
    answered_by_ = backend.url;
    release(backend, choice, facts, verdict, budgeted_retry);
    choice.place.release();  // before waiting for another place
    switch (verdict.next) {
      case Verdict::Next::Done:
        return !verdict.close_client && client_.keeps_connection();
      case Verdict::Next::Reply:
      case Verdict::Next::SameBackendAgain:  // (never twice)
        if (verdict.over_budget) context_.metrics.retries_over_budget.fetch_add(1, std::memory_order_relaxed);
        return reply(verdict.status, verdict.message, verdict.close_client);
      case Verdict::Next::AnotherBackend:
        break;
    }
    if (verdict.budgeted && !context_.retry_budget.try_withdraw()) {  // spent since the judge looked
      context_.metrics.retries_over_budget.fetch_add(1, std::memory_order_relaxed);
      return reply(verdict.status, verdict.message, verdict.close_client);
    }
    budgeted_retry = verdict.budgeted;
    last_failure = verdict;
    selection.avoid.push_back(&backend);
    --attempts_left;
    common::log_line("[Proxy] " + backend.url + " failed (" + facts.detail + "); trying another backend");
  }
}

// How long this try waits for a first response byte: a replayable request
// --try-timeout (jittered), then it is tried elsewhere; others all of
// --backend-timeout, for they cannot be.
Millis Exchange::first_byte_wait(Clock::time_point deadline) {
  if (!replayable_) return settings_.backend_timeout;
  const Millis left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
  const Millis try_wait = settings_.try_timeout < settings_.backend_timeout
                              ? jittered_try_timeout(settings_.try_timeout, unit_random_(setup_.random))
                              : settings_.try_timeout;
  return std::max(Millis(1), std::min(try_wait, left));
}

// The backend the client's sticky cookie names, if any (forged or stale: none).
std::shared_ptr<Backend> Exchange::pinned_backend(bool& cookie_seen) const {
  if (!pool_->sticky) return nullptr;
  for (size_t i = 0; i < request_.fields.size(); ++i) {
    if (!iequals(request_.name(i), "cookie")) continue;
    const std::string_view value = pool_->sticky->find_in(request_.value(i));
    if (!value.empty()) {
      cookie_seen = true;
      return pool_->sticky->backend_for(value);
    }
  }
  return nullptr;
}

// Step 4: the pinned backend while it can take the request, else the
// algorithm's choice; then the backend's circuit breaker must admit it.
Exchange::Choice Exchange::choose(SelectionContext& selection, const std::shared_ptr<Backend>& pinned,
                                  bool cookie_seen) {
  for (;;) {
    if (settings_.trace_header || context_.request_log) trace_.note_candidates(*pool_, selection);
    Choice choice;
    if (!take_place(selection, pinned, choice)) return choice;
    if (pool_->sticky) {
      trace_.set_sticky(!cookie_seen                 ? "miss (no cookie)"
                        : !pinned                    ? "miss (unknown value)"
                        : choice.backend == pinned   ? "hit"
                                                     : "miss (pinned backend unavailable)");
    }
    if (!choice.backend) return choice;
    CircuitTransition transition;
    choice.ticket = choice.backend->passive_health().admit(&transition);
    if (transition.changed) log_circuit_change(*choice.backend, transition);
    if (!choice.ticket) {  // another thread took the last half-open trial slot
      selection.avoid.push_back(choice.backend.get());
      continue;
    }
    trace_.note_chosen(*choice.backend);
    if (pool_->sticky && choice.backend != pinned) {
      choice.set_cookie = pool_->sticky->set_cookie_value(*choice.backend, setup_.forwarded_proto == "https");
    }
    return choice;
  }
}

// Step 4's place on a backend: in a pool without limits the pinned backend
// or the algorithm's pick, at once; with --max-requests, through the pool's
// queue (README "Queues and overload"). False when no backend is eligible,
// or the queue refused the request (`choice.refused` says how).
bool Exchange::take_place(SelectionContext& selection, const std::shared_ptr<Backend>& pinned, Choice& choice) {
  const auto pick = [&] { return pinned && is_eligible(*pinned, selection) ? pinned : pool_->selector->pick(selection); };
  if (!pool_->limited) {
    choice.backend = pick();
    if (!choice.backend) return false;
    choice.place = BackendPlace::take(choice.backend);
    return true;
  }
  SelectionContext once_free = selection;  // eligible but for the limit: worth waiting for
  once_free.ignore_room = true;
  const PoolQueue::TryTake try_take = [&](bool& any_eligible) -> std::shared_ptr<Backend> {
    for (int tries = 0; tries < 3; ++tries) {  // an auto limit may shrink between pick and take
      std::shared_ptr<Backend> backend = pick();
      if (!backend) break;
      if (backend->try_take_place()) return backend;
    }
    any_eligible = std::any_of(pool_->backends.begin(), pool_->backends.end(),
                               [&](const auto& backend) { return is_eligible(*backend, once_free); });
    return nullptr;
  };
  const PoolQueue::Accepts accepts = [&](const Backend& backend) { return is_eligible(backend, once_free); };
  const PoolQueue::Admission admission =
      pool_->shared->queue.admit(try_take, accepts, pool_->settings.queue, [this] { return client_.client_gone(); });
  if (admission.waited.count() > 0) {
    context_.metrics.queue_waits.observe(std::chrono::duration<double>(admission.waited).count());
  }
  choice.refused = admission.outcome;
  if (admission.outcome != QueueOutcome::Placed) return false;
  choice.backend = admission.backend;
  choice.place = BackendPlace(choice.backend, pool_->queue_for_places());
  return true;
}

// No place for the request: the queue's refusal (503 with Retry-After), or
// no eligible backend (503), or the last failure's answer on a retry.
bool Exchange::refuse_unplaced(const Choice& choice, const Verdict& last_failure) {
  const bool close = !client_.request_fully_read();
  switch (choice.refused) {
    case QueueOutcome::Full:
      context_.metrics.shed_queue_full.fetch_add(1, std::memory_order_relaxed);
      return reply(503, "queue full", close, {{"Retry-After", "1"}});
    case QueueOutcome::TimedOut:
      context_.metrics.shed_queue_timeout.fetch_add(1, std::memory_order_relaxed);
      return reply(503, "queue timeout", close, {{"Retry-After", "1"}});
    case QueueOutcome::ClientGone:
      return reply(503, "client gone while queued", true);
    default:
      if (last_failure.status == 0) return reply(503, "no healthy backend available", close);
      return reply(last_failure.status, last_failure.message, last_failure.close_client);
  }
}

// Step 1's request id (--request-id-header): the client's is kept; a request
// without one gets a fresh random id, which the backend is sent too.
void Exchange::note_request_id() {
  if (settings_.request_id_header.empty()) return;
  request_id_ = std::string(find_header(request_, settings_.request_id_header));
  request_id_is_new_ = request_id_.empty();
  if (request_id_is_new_) request_id_ = random_request_id();
  trace_.set_request_id(request_id_);
}

}  // namespace lb
