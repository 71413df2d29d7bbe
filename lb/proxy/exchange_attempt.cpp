// Exchange, part 2: step 5, one attempt on one backend: an injected fault
// first (admin API), then a connection (pooled, or new), the request head and
// its streamed body, and the response head; step 7 relays the body
// (exchange_relay.cpp), and the connection goes back to the pool only when
// both sides must agree where the exchange ended (may_reuse_upstream()).
#include <algorithm>
#include <thread>

#include "lb/http/message_rules.h"
#include "lb/proxy/connection_buffers.h"
#include "lb/proxy/exchange.h"
#include "lb/proxy/upstream_request_head.h"
#include "lb/transport/tls_stream.h"

namespace lb {

AttemptFacts Exchange::attempt(Choice& choice, Millis first_byte_wait, bool fresh_connection) {
  auto started = Clock::now();
  Backend::LatencyTicket latency = choice.backend->latency_begin(started);
  first_byte_at_ = {};
  open_attempt_span(*choice.backend, /*hedge=*/false);
  AttemptFacts facts;
  std::unique_ptr<Stream> upstream;
  bool reused = false;
  Clock::time_point forwarded_at{};
  if (fresh_connection || !apply_fault(*choice.backend, first_byte_wait, facts)) {
    forwarded_at = Clock::now();
    upstream = connect(*choice.backend, fresh_connection, reused, facts);
  }
  if (upstream) {
    facts = send_request(*upstream);
    if (facts.end == AttemptEnd::Answered && race_hedge(choice, upstream, latency, started, first_byte_wait)) {
      forwarded_at = started;  // the hedge's
    }
    if (facts.end == AttemptEnd::Answered) facts = read_response_head(*upstream, first_byte_wait);
    const int status = scratch_.response_parser.head().status;
    if (facts.end == AttemptEnd::Answered && retry_answer(status)) {
      facts = AttemptFacts::ended(AttemptEnd::RetryStatus, "answered " + std::to_string(status));
      facts.status = status;  // the connection closes: its body is not read
    }
    if (facts.end == AttemptEnd::Answered) facts = hold_slow_answer(*choice.backend, forwarded_at, first_byte_wait);
    if (facts.end == AttemptEnd::Answered) facts = relay_response(*upstream, choice);
    ExchangeEnd end;
    end.risky_request_body = risky_body_;
    end.response_complete = facts.end == AttemptEnd::Answered;
    end.backend_keep_alive = scratch_.response_parser.head().keep_alive;
    end.bytes_left_over = scratch_.begin != scratch_.end;
    end.response_status = scratch_.response_parser.head().status;
    if (may_reuse_upstream(end)) choice.backend->idle_connections().release(std::move(upstream));
  }  // otherwise `upstream` closes here
  facts.reused_connection = reused;
  facts.replayable = replayable_;
  facts.request_fully_read = client_.request_fully_read();
  facts.max_body_bytes = settings_.max_body_bytes;
  if (facts.end == AttemptEnd::Answered) facts.status = status_sent_;
  note_latency(*choice.backend, latency, started, facts);
  end_attempt_span(attempt_span_, facts);  // the hedge's when it won
  return facts;
}

// --retry-on-status: an answer with one of those codes is dropped (the judge
// sends the request elsewhere) while retries and the budget allow; the last
// try's answer is relayed as it is.
bool Exchange::retry_answer(int status) const {
  const std::vector<int>& codes = settings_.retry_on_status;
  if (!may_retry_answer_ || std::find(codes.begin(), codes.end(), status) == codes.end()) return false;
  return context_.retry_budget.has_room();
}

// What least-latency learns (latency_estimate.h): the time to the first
// response byte, or until the attempt failed; failures and 5xx count as slow.
void Exchange::note_latency(Backend& backend, Backend::LatencyTicket ticket, Clock::time_point started,
                            const AttemptFacts& facts) {
  const auto now = Clock::now();
  const auto first_byte = first_byte_at_ == Clock::time_point{} ? now : first_byte_at_;
  const double first_byte_ms = std::chrono::duration<double, std::milli>(first_byte - started).count();
  bool failed;
  switch (facts.end) {
    case AttemptEnd::Answered:
      failed = facts.status >= 500;
      break;
    case AttemptEnd::BodyTooLarge:  // the client's doing
    case AttemptEnd::BadRequestBody:
    case AttemptEnd::CutShort:
      failed = false;
      break;
    default:
      failed = true;
  }
  backend.latency_end(ticket, first_byte_ms, failed, now);
  if (facts.end == AttemptEnd::Answered) pool_->shared->response_times.record(first_byte_ms, now);
}

// An injected fault (admin API) plays a slow or failing backend on our side,
// so any service can be broken in a workshop. A delay counts against the
// attempt's wait for a first byte, as a slow backend's would; an abort never
// contacts the backend. False: go on and forward; true: `facts` says how it ended.
bool Exchange::apply_fault(Backend& backend, Millis& first_byte_wait, AttemptFacts& facts) {
  const std::optional<FaultSettings> fault = backend.fault();
  if (!fault) return false;
  const auto now = Clock::now();
  const auto first_byte_deadline = now + first_byte_wait;
  const FaultPlan plan =
      plan_fault(*fault, [this] { return unit_random_(setup_.random); }, now, first_byte_deadline);
  if (plan.delay.count() > 0) {
    backend.faults_delayed.fetch_add(1, std::memory_order_relaxed);
    trace_.note_delay(backend, plan.delay);
    std::this_thread::sleep_until(plan.times_out ? first_byte_deadline : plan.forward_at);
    if (plan.times_out) {
      facts = AttemptFacts::ended(AttemptEnd::Timeout, "timeout (injected delay)");
      return true;
    }
    first_byte_wait = std::max(Millis(1), first_byte_wait - plan.delay);
  }
  if (!plan.abort) return false;
  backend.faults_aborted.fetch_add(1, std::memory_order_relaxed);
  facts = AttemptFacts::ended(AttemptEnd::InjectedAbort, "injected fault (" + std::to_string(plan.abort_status) + ")");
  facts.status = plan.abort_status;
  return true;
}

// An injected slow_factor holds the response head back so the backend seems
// that many times slower while its health checks pass (a gray failure), and
// least-latency learns the slowed time. The hold counts against the wait for
// a first byte, as apply_fault()'s delay does.
AttemptFacts Exchange::hold_slow_answer(Backend& backend, Clock::time_point forwarded_at, Millis first_byte_wait) {
  const std::optional<FaultSettings> fault = backend.fault();
  if (!fault || fault->slow_factor <= 1) return AttemptFacts::ended(AttemptEnd::Answered, "");
  const auto first_byte_deadline = forwarded_at + first_byte_wait;
  const SlowAnswerPlan plan = plan_slow_answer(*fault, forwarded_at, first_byte_at_, first_byte_deadline);
  backend.faults_slowed.fetch_add(1, std::memory_order_relaxed);
  trace_.note_slow_answer(backend, plan.hold);
  std::this_thread::sleep_until(plan.times_out ? first_byte_deadline : plan.release_at);
  if (plan.times_out) {
    first_byte_at_ = {};  // nothing came in time
    return AttemptFacts::ended(AttemptEnd::Timeout, "timeout (injected slow answer)");
  }
  first_byte_at_ = plan.release_at;
  return AttemptFacts::ended(AttemptEnd::Answered, "");
}

// A pooled keep-alive connection to the backend, or a new one (to the
// addresses the latest health check resolved: no lookup per connection).
// `reused`: it was pooled. nullptr with `failed` saying why when it cannot
// be reached (or the client left while it waited to send its body).
std::unique_ptr<Stream> Exchange::connect(Backend& backend, bool fresh_connection, bool& reused, AttemptFacts& failed) {
  std::unique_ptr<Stream> upstream = fresh_connection ? nullptr : backend.idle_connections().acquire();
  reused = upstream != nullptr;
  if (!upstream) {
    std::string error;
    bool timed_out = false;
    const auto addresses = backend.addresses();
    upstream = addresses ? connect_tcp(*addresses, settings_.connect_timeout, error, timed_out)
                         : connect_tcp(backend.spec.host, backend.spec.port, settings_.connect_timeout, error, timed_out);
    if (upstream && backend.spec.scheme == "https") {
      // The pool's CA and client certificate, as loaded for the Topology this request began with.
      const TlsClientContext* tls = pool_->settings.backend_tls_context.get();
      if (tls == nullptr) {
        upstream.reset();
        error = "no TLS settings loaded for pool " + pool_->settings.name;
      } else {
        upstream = connect_tls(std::move(upstream), *tls, backend.spec.host, settings_.connect_timeout, error);
      }
    }
    if (!upstream) {
      failed = AttemptFacts::ended(AttemptEnd::CannotConnect, error);
      return nullptr;
    }
  }
  // A backend is reachable: now tell a waiting client to send its body.
  if (expects_continue_ && !continue_sent_) {
    if (!client_.send_continue()) {
      failed = AttemptFacts::ended(AttemptEnd::CutShort, "client gone");
      return nullptr;
    }
    continue_sent_ = true;
  }
  UpstreamHeadOptions options;
  options.client_ip = setup_.client_ip;
  options.forwarded_proto = setup_.forwarded_proto;
  options.client_cert_subject = setup_.client_cert_subject;
  options.via_header = setup_.via_header;
  options.fallback_host = backend.host_header;
  options.sticky = pool_->sticky.get();
  options.x_forwarded_headers = settings_.x_forwarded_headers;
  options.forwarded_header = settings_.forwarded_header;
  options.drop_expect = expects_continue_;
  options.close_connection = risky_body_;
  options.target = routed_target_;
  options.rules = route_ ? &route_->request_headers : nullptr;
  options.edge_rules = edge_headers_.empty() ? nullptr : &edge_headers_;
  if (request_id_is_new_) {
    options.request_id_header = settings_.request_id_header;
    options.request_id = request_id_;
  }
  add_trace_fields(options);
  build_upstream_head(request_, options, scratch_.request_head);
  return upstream;
}

// The request head, then the body as the client sends it.
AttemptFacts Exchange::send_request(Stream& upstream) {
  const Framing framing = request_.chunked ? Framing::Chunked : request_.has_body() ? Framing::Length : Framing::None;
  BodyWriter& writer = scratch_.request_writer;
  writer.start(&upstream, framing, settings_.backend_timeout, settings_.max_body_bytes);
  writer.queue(scratch_.request_head.data(), scratch_.request_head.size());
  std::string problem;
  switch (client_.pass_request_body(writer, problem)) {
    case BodyPass::Done:
      return AttemptFacts::ended(AttemptEnd::Answered, "");  // so far
    case BodyPass::TooLarge:
      return AttemptFacts::ended(AttemptEnd::BodyTooLarge, "");
    case BodyPass::Invalid:
      return AttemptFacts::ended(AttemptEnd::BadRequestBody, problem);
    case BodyPass::ClientGone:
      return AttemptFacts::ended(AttemptEnd::CutShort, "client stopped sending its body");
    case BodyPass::UpstreamFailed:
      break;
  }
  return AttemptFacts::ended(AttemptEnd::NoResponse, "write to backend failed");
}

// Reads the final response head; interim (1xx) responses are passed on.
AttemptFacts Exchange::read_response_head(Stream& upstream, Millis first_byte_wait) {
  MessageParser& parser = scratch_.response_parser;
  const bool head_request = request_.view(request_.method) == "HEAD";
  parser.reset(head_request);
  parser.set_body_sink(nullptr);
  scratch_.begin = scratch_.end = 0;
  bool got_bytes = false;
  for (;;) {
    if (scratch_.begin < scratch_.end) {
      scratch_.begin += parser.feed(scratch_.buffer + scratch_.begin, scratch_.end - scratch_.begin);
      if (parser.phase() == MessageParser::Phase::Error) return AttemptFacts::ended(AttemptEnd::BadGateway, parser.error_text());
      const MessageHead& response = parser.head();
      if (parser.phase() != MessageParser::Phase::Head) {
        std::string problem = check_response_head(response);
        if (!problem.empty()) return AttemptFacts::ended(AttemptEnd::BadGateway, problem);
        if (response.status / 100 != 1 || response.status == 101) return AttemptFacts::ended(AttemptEnd::Answered, "");
        // 1xx: complete it (it has no body), pass it on to HTTP/1.1 clients, read on.
        if (parser.phase() != MessageParser::Phase::Done) continue;
        if (request_.http_minor >= 1 && !expects_continue_ && !client_.send_interim(response, response_options(""))) {
          return AttemptFacts::ended(AttemptEnd::CutShort, "client gone");
        }
        parser.reset(head_request);
        continue;
      }
    }
    if (scratch_.begin == scratch_.end) scratch_.begin = scratch_.end = 0;
    const ssize_t n = upstream.read(scratch_.buffer + scratch_.end, ConnectionBuffers::kBufferBytes - scratch_.end,
                                    got_bytes ? settings_.backend_timeout : first_byte_wait);
    if (n == kTimeout) return AttemptFacts::ended(AttemptEnd::Timeout, "timeout");
    if (n <= 0) {
      return got_bytes ? AttemptFacts::ended(AttemptEnd::BadGateway, "connection closed mid-response")
                       : AttemptFacts::ended(AttemptEnd::NoResponse, "connection closed");
    }
    if (!got_bytes) first_byte_at_ = Clock::now();
    got_bytes = true;
    scratch_.end += static_cast<size_t>(n);
  }
}

}  // namespace lb
