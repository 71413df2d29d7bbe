// ProxyConnection, part 1: the request path, top to bottom (see the steps in
// proxy_connection.h). Decisions live in proxy_connection_policies.cpp, the
// heads we write in proxy_connection_heads.cpp, the response read back and
// relayed (step 6) in proxy_connection_response.cpp, the tunnel in
// proxy_connection_tunnel.cpp.
#include "lb/proxy/proxy_connection.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"
#include "lb/balancing/event_log.h"
#include "lb/http/http_headers.h"
#include "lb/http/message_rules.h"
#include "lb/proxy/retry_policy.h"
#include "lb/transport/tls_stream.h"

namespace lb {

namespace {

using Clock = std::chrono::steady_clock;

constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

// A keep-alive connection idle this long gives its buffer pages back while it
// waits on. Busy connections never pay for it; a release and the page faults
// after it cost a few microseconds, at most once per quiet spell.
constexpr Millis kQuietBeforeReleasingBuffers{100};

}  // namespace

ProxyConnection::ProxyConnection(ProxyContext& context, std::unique_ptr<Stream> client,
                                 const char* forwarded_proto, std::string client_ip, bool refuse_proxy_header)
    : context_(context),
      live_(context.live.current()),
      live_generation_(context.live.generation()),
      settings_(live_->proxy),
      client_(std::move(client)),
      forwarded_proto_(forwarded_proto),
      client_ip_(std::move(client_ip)),
      via_header_("Via: 1.1 " + settings_.via_name + "\r\n"),
      refuse_proxy_header_(refuse_proxy_header),
      request_parser_(HTTP_REQUEST, settings_.max_header_bytes),
      response_parser_(HTTP_RESPONSE, settings_.max_header_bytes) {
  random_.seed(static_cast<unsigned>(Clock::now().time_since_epoch().count()) ^ static_cast<unsigned>(client_->fd()));
}

void ProxyConnection::serve() {
  ConnectionRegistry::Slot slot(context_.registry, client_->fd());
  registry_slot_ = &slot;
  for (;;) {
    // Between requests the connection is idle, unless a pipelined request is already buffered.
    bool buffered = client_begin_ < client_end_;
    if (!buffered && !slot.enter_idle()) break;
    if (buffered && context_.registry.stopping()) break;
    if (!serve_request()) break;
  }
}

void ProxyConnection::serve_stream() {
  ConnectionRegistry::Slot slot(context_.registry, client_->fd());
  registry_slot_ = &slot;
  slot.enter_busy();
  serve_request();
}

bool ProxyConnection::serve_request() {
  refresh_settings();
  if (read_request_head() != HeadResult::Ready) return false;
  auto started = Clock::now();
  std::string started_text = context_.access_log ? access_log_time() : std::string();
  const auto started_wall = context_.request_log ? std::chrono::system_clock::now() : std::chrono::system_clock::time_point();
  status_sent_ = 0;
  body_bytes_sent_ = 0;
  answered_by_.clear();
  upstream_seconds_ = 0;
  trace_.reset();
  request_id_.clear();
  route_ = nullptr;
  pool_ = nullptr;
  bool keep = handle_request();
  if (status_sent_ != 0) {
    double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    context_.metrics.observe_response(status_sent_, seconds);
    if (context_.access_log) write_access_log(started_text, seconds);
    if (context_.request_log) record_request(started_wall, seconds);
  }
  return keep;
}

// Step 1: parse the request head, enforcing the idle, header and size limits.
ProxyConnection::HeadResult ProxyConnection::read_request_head() {
  request_parser_.reset();
  request_parser_.set_body_sink(nullptr);
  bool started = client_begin_ < client_end_;
  const Clock::time_point now = Clock::now();
  Clock::time_point deadline = now + settings_.header_timeout;
  const Clock::time_point idle_deadline = now + settings_.keepalive_timeout;
  bool pages_released = false;
  if (started) registry_slot_->enter_busy();

  for (;;) {
    if (refuse_proxy_header_ && client_begin_ < client_end_ && sends_proxy_header()) return HeadResult::Rejected;
    if (client_begin_ < client_end_ && !refuse_proxy_header_) {
      client_begin_ += request_parser_.feed(buffers_->client() + client_begin_, client_end_ - client_begin_);
      switch (request_parser_.phase()) {
        case MessageParser::Phase::Body:
          // Without a body the message ends with the head: finish it now, so a
          // reply needs no body handling and the next request starts clean.
          if (!request_parser_.head().has_body()) {
            client_begin_ +=
                request_parser_.feed(buffers_->client() + client_begin_, client_end_ - client_begin_);
          }
          return HeadResult::Ready;
        case MessageParser::Phase::Done:
          return HeadResult::Ready;
        case MessageParser::Phase::Error:
          if (request_parser_.head_too_large()) {
            reply_error(431, "request header fields too large", true);
          } else if (Refusal coding = request_parser_.transfer_encoding_refused()
                                          ? check_transfer_encoding(request_parser_.head())
                                          : Refusal{}) {
            reply_error(coding.status, coding.reason, true);
          } else {
            reply_error(400, std::string("malformed request: ") + request_parser_.error_text(), true);
          }
          return HeadResult::Rejected;
        case MessageParser::Phase::Head:
          break;
      }
    }
    if (client_begin_ == client_end_) client_begin_ = client_end_ = 0;

    Millis wait;
    if (started) {
      wait = std::chrono::duration_cast<Millis>(deadline - Clock::now());
      if (wait.count() <= 0) {
        reply_error(408, "request header timeout", true);
        return HeadResult::Rejected;
      }
    } else if (!pages_released) {
      wait = std::min(settings_.keepalive_timeout, kQuietBeforeReleasingBuffers);
    } else {
      wait = std::chrono::duration_cast<Millis>(idle_deadline - Clock::now());
      if (wait.count() <= 0) return HeadResult::Closed;  // idle too long
    }
    ssize_t n = client_->read(buffers_->client() + client_end_, ConnectionBuffers::kBufferBytes - client_end_, wait);
    if (n == kTimeout && started) {
      reply_error(408, "request header timeout", true);
      return HeadResult::Rejected;
    }
    if (n == kTimeout && !pages_released) {
      // Quiet for a while: likely to stay so. Both buffers are empty now.
      buffers_->release_pages();
      pages_released = true;
      continue;
    }
    if (n <= 0) return HeadResult::Closed;  // client left, or idle too long
    if (!started) {
      started = true;
      deadline = Clock::now() + settings_.header_timeout;
      registry_slot_->enter_busy();
    }
    client_end_ += static_cast<size_t>(n);
  }
}

// Steps 2, 3, 4 and 7: check the request, route it, pick backends and retry as allowed.
bool ProxyConnection::handle_request() {
  const MessageHead& request = request_parser_.head();
  refresh_settings();  // a reload while this connection waited for the head applies to it
  note_request_id();  // first, so that every answer from here on carries it
  if (Refusal refusal = check_request_head(request)) return reply_error(refusal.status, refusal.reason, true);
  risky_body_ = body_framing_is_risky(request);
  if (settings_.max_body_bytes != 0 && request.content_length != kNoContentLength &&
      request.content_length > settings_.max_body_bytes) {
    return reply_error(413, "request body larger than " + std::to_string(settings_.max_body_bytes) + " bytes",
                       true);
  }
  bool expect_found = false;
  std::string_view expect = find_header(request, "expect", &expect_found);
  expects_continue_ = expect_found && iequals(expect, "100-continue") && request.has_body() &&
                      request.http_minor >= 1;
  continue_sent_ = false;
  keep_client_ = request.keep_alive && !context_.registry.stopping();
  if (!admit_by_rate_limit()) return keep_client_ && request_fully_read();
  if (!route_request()) return reply_error(404, "no route for this request", !request_fully_read());

  const bool replayable = is_replayable(request.view(request.method), request.has_body());
  sticky_cookie_seen_ = false;
  const std::shared_ptr<Backend> pinned = pinned_backend();
  context_.retry_budget.deposit();
  bool budgeted_retry = false;  // this try is a retry the budget paid for (counted in /metrics)
  const Clock::time_point deadline =
      Clock::now() + all_tries_timeout(settings_.backend_timeout, settings_.try_timeout, settings_.retries);
  SelectionContext selection;
  int attempts_left = settings_.retries + 1;
  Attempt last_failure{Outcome::Completed, ""};
  for (;;) {
    selection.now = Clock::now();
    std::shared_ptr<Backend> backend = choose_backend(selection, pinned);
    if (!backend) {
      if (last_failure.detail.empty()) return reply_error(503, "no healthy backend available", !request_fully_read());
      return reply_unreachable(last_failure);
    }
    ActiveRequestGuard in_flight(*backend);
    auto upstream_started = Clock::now();
    // A replayable request waits --try-timeout for a first byte, then tries elsewhere.
    Millis left = std::chrono::duration_cast<Millis>(deadline - upstream_started);
    // (Without --try-timeout each try is the whole --backend-timeout, without jitter.)
    Millis try_wait = settings_.try_timeout < settings_.backend_timeout
                          ? jittered_try_timeout(settings_.try_timeout, unit_random_(random_))
                          : settings_.try_timeout;
    first_byte_wait_ = replayable ? std::max(Millis(1), std::min(try_wait, left)) : settings_.backend_timeout;
    Attempt attempt{Outcome::Completed, ""};
    if (!apply_fault(*backend, attempt)) attempt = forward(*backend, /*fresh_connection=*/false);
    if (attempt.outcome == Outcome::NoResponse && attempt.detail == "reused" && replayable) {
      // A pooled connection the backend had already closed: not the backend's
      // fault. Once more on a new connection to the same backend.
      attempt = forward(*backend, /*fresh_connection=*/true);
    }
    const bool backend_failed = attempt.outcome == Outcome::CannotConnect || attempt.outcome == Outcome::Timeout ||
                                attempt.outcome == Outcome::BadGateway || attempt.outcome == Outcome::NoResponse ||
                                attempt.outcome == Outcome::InjectedAbort ||
                                (attempt.outcome == Outcome::Completed && status_sent_ >= 500);
    record_outcome(*backend, !backend_failed, budgeted_retry);
    upstream_seconds_ += std::chrono::duration<double>(Clock::now() - upstream_started).count();
    if (backend_failed) trace_.note_failure(*backend, attempt.detail);
    answered_by_ = backend->url;
    if (attempt.outcome == Outcome::Completed) {
      backend->responses_by_class[status_sent_ / 100 % 6].fetch_add(1, std::memory_order_relaxed);
    }
    switch (attempt.outcome) {
      case Outcome::Completed:
        return keep_client_;
      case Outcome::Aborted:
        return false;
      case Outcome::BodyTooLarge:
        return reply_error(413, "request body larger than " + std::to_string(settings_.max_body_bytes) + " bytes",
                           true);
      case Outcome::BadRequestBody:
        return reply_error(400, std::string("malformed request body: ") + request_parser_.error_text(), true);
      case Outcome::Timeout:
        if (!replayable || Clock::now() >= deadline) return reply_unreachable(attempt);
        break;
      case Outcome::BadGateway:
        return reply_error(502, "invalid response from backend: " + attempt.detail, true);
      case Outcome::CannotConnect:
        // Passive health: a backend that refuses connections leaves rotation now.
        if (backend->mark_down(attempt.detail + " while proxying")) {
          log_health_change(*backend, false, attempt.detail + " while proxying");
        }
        break;
      case Outcome::NoResponse:
        if (!replayable) return reply_error(502, "backend closed the connection", true);
        attempt.detail = "connection closed without a response";
        break;
      case Outcome::InjectedAbort:  // a failure, but no passive mark-down: the breaker and ejection react
        if (!replayable) return reply_unreachable(attempt);
        break;
    }
    last_failure = attempt;
    selection.avoid.push_back(backend.get());
    if (--attempts_left <= 0) return reply_unreachable(attempt);
    // The budget is for requests a backend may have received: one never sent
    // (connection refused, injected abort) multiplies nothing.
    budgeted_retry = attempt.outcome != Outcome::CannotConnect && attempt.outcome != Outcome::InjectedAbort;
    if (budgeted_retry && !context_.retry_budget.try_withdraw()) {
      // a wide outage: fail as without retries rather than multiply it
      context_.metrics.retries_over_budget.fetch_add(1, std::memory_order_relaxed);
      return reply_unreachable(attempt);
    }
    common::log_line("[Proxy] " + backend->url + " failed (" + attempt.detail + "); trying another backend");
  }
}

// Step 5, then 6: one attempt on one backend.
ProxyConnection::Attempt ProxyConnection::forward(Backend& backend, bool fresh_connection) {
  std::unique_ptr<Stream> upstream = fresh_connection ? nullptr : backend.pool().acquire();
  const bool reused = upstream != nullptr;
  if (!upstream) {
    std::string error;
    bool timed_out = false;
    // To the addresses the latest health check resolved (no lookup per connection).
    const auto addresses = backend.addresses();
    upstream = addresses ? connect_tcp(*addresses, settings_.connect_timeout, error, timed_out)
                         : connect_tcp(backend.spec.host, backend.spec.port, settings_.connect_timeout, error, timed_out);
    if (upstream && backend.spec.scheme == "https") {
      upstream = connect_tls(std::move(upstream), context_.upstream_tls, backend.spec.host, settings_.connect_timeout,
                             error);
    }
    if (!upstream) return {Outcome::CannotConnect, error};
  }
  // A backend is reachable: now tell a waiting client to send its body.
  if (expects_continue_ && !continue_sent_) {
    if (!client_->write_all(kContinue, sizeof kContinue - 1, settings_.client_timeout)) {
      return {Outcome::Aborted, "client gone"};
    }
    continue_sent_ = true;
  }

  build_upstream_head(backend);
  Attempt sent = send_request(*upstream);
  if (sent.outcome == Outcome::NoResponse && reused) sent.detail = "reused";
  if (sent.outcome != Outcome::Completed) return sent;

  upstream_begin_ = upstream_end_ = 0;
  Attempt head = read_response_head(*upstream);
  if (head.outcome == Outcome::NoResponse && reused) head.detail = "reused";
  if (head.outcome != Outcome::Completed) return head;

  Attempt relayed = relay_response(*upstream);
  ExchangeEnd end;
  end.risky_request_body = risky_body_;
  end.response_complete = relayed.outcome == Outcome::Completed;
  end.backend_keep_alive = response_parser_.head().keep_alive;
  end.bytes_left_over = upstream_begin_ != upstream_end_;
  end.response_status = response_parser_.head().status;
  if (may_reuse_upstream(end)) backend.pool().release(std::move(upstream));
  return relayed;  // otherwise `upstream` closes here
}

// Sends the request head and streams the body from the client as it arrives.
ProxyConnection::Attempt ProxyConnection::send_request(Stream& upstream) {
  const MessageHead& request = request_parser_.head();
  Framing framing = request.chunked ? Framing::Chunked : request.has_body() ? Framing::Length : Framing::None;
  upstream_writer_.start(&upstream, framing, settings_.backend_timeout, settings_.max_body_bytes);
  upstream_writer_.queue(upstream_head_.data(), upstream_head_.size());
  request_parser_.set_body_sink(&upstream_writer_);

  while (request_parser_.phase() != MessageParser::Phase::Done) {
    if (client_begin_ < client_end_) {
      client_begin_ += request_parser_.feed(buffers_->client() + client_begin_, client_end_ - client_begin_);
    }
    if (request_parser_.phase() == MessageParser::Phase::Error) {
      if (upstream_writer_.limit_exceeded()) return {Outcome::BodyTooLarge, ""};
      if (upstream_writer_.failed()) return {Outcome::NoResponse, "write to backend failed"};
      return {Outcome::BadRequestBody, ""};
    }
    if (request_parser_.phase() == MessageParser::Phase::Done) break;
    // Queued body bytes point into the client buffer: send them before reusing it.
    if (!upstream_writer_.flush()) return {Outcome::NoResponse, "write to backend failed"};
    if (client_begin_ == client_end_) client_begin_ = client_end_ = 0;
    ssize_t n = client_->read(buffers_->client() + client_end_, ConnectionBuffers::kBufferBytes - client_end_,
                              settings_.client_timeout);
    if (n <= 0) return {Outcome::Aborted, "client stopped sending its body"};
    client_end_ += static_cast<size_t>(n);
  }
  if (!upstream_writer_.finish(&request_parser_.trailers())) return {Outcome::NoResponse, "write to backend failed"};
  return {Outcome::Completed, ""};
}

bool ProxyConnection::request_fully_read() const {
  return request_parser_.phase() == MessageParser::Phase::Done;
}

}  // namespace lb
