// Http1Connection, part 1: the connection loop. Request heads are read here;
// each one becomes an Exchange.
#include "lb/proxy/http1_connection.h"

#include <algorithm>
#include <chrono>

#include "lb/http/error_response.h"
#include "lb/http/message_rules.h"
#include "lb/transport/proxy_protocol.h"

namespace lb {

namespace {

using Clock = std::chrono::steady_clock;

// A keep-alive connection idle this long gives its buffer pages back while it
// waits on. Busy connections never pay for it; a release and the page faults
// after it cost a few microseconds, at most once per quiet spell.
constexpr Millis kQuietBeforeReleasingBuffers{100};

// A connection that has not sent its first request is not idle: its client
// connected a moment ago and the request is on its way (during a binary
// upgrade, it may have been accepted here just as the new process took over).
// A stop lets it send that request, but waits at most this long for it.
constexpr Millis kFirstRequestGrace{1000};

}  // namespace

Http1Connection::Http1Connection(ProxyContext& context, std::unique_ptr<Stream> client, const char* forwarded_proto,
                                 std::string client_ip, std::string client_cert_subject, bool refuse_proxy_header)
    : context_(context),
      live_{context.live.current(), context.live.generation()},
      client_(std::move(client)),
      forwarded_proto_(forwarded_proto),
      client_ip_(std::move(client_ip)),
      client_cert_subject_(std::move(client_cert_subject)),
      via_(live_.value->proxy.via_name),
      refuse_proxy_header_(refuse_proxy_header),
      request_parser_(HTTP_REQUEST, live_.value->proxy.max_header_bytes),
      upstream_(live_.value->proxy.max_header_bytes) {
  random_.seed(static_cast<unsigned>(Clock::now().time_since_epoch().count()) ^ static_cast<unsigned>(client_->fd()));
  upstream_.buffer = buffers_->upstream();
}

void Http1Connection::serve() {
  ConnectionRegistry::Slot slot(context_.registry, client_->fd());
  registry_slot_ = &slot;
  for (;;) {
    // Between requests the connection is idle, unless a pipelined request is already buffered.
    const bool buffered = client_begin_ < client_end_;
    if (!buffered && !first_request_ && !slot.enter_idle()) break;
    if (buffered && context_.registry.stopping()) break;
    if (!serve_request()) break;
    first_request_ = false;
  }
}

bool Http1Connection::serve_request() {
  refresh_settings();
  if (read_request_head() != HeadResult::Ready) return false;
  refresh_settings();  // a reload while this connection waited for the head applies to it
  keep_client_ = request().keep_alive && !context_.registry.stopping();
  topology_.refresh(context_.balancer);  // pools and routes change rarely (admin API, reload)
  const ExchangeSetup setup{context_,    *live_.value, *topology_.value, client_ip_, forwarded_proto_,
                            client_cert_subject_, via_.header, via_.value(), random_};
  Exchange exchange(setup, *this, upstream_);
  return exchange.run();
}

// The request head, within the idle, header-time and size limits.
Http1Connection::HeadResult Http1Connection::read_request_head() {
  request_parser_.reset();
  request_parser_.set_body_sink(nullptr);
  const ProxySettings& settings = live_.value->proxy;
  bool started = client_begin_ < client_end_;
  const Clock::time_point now = Clock::now();
  Clock::time_point deadline = now + settings.header_timeout;
  const Clock::time_point idle_deadline = now + settings.keepalive_timeout;
  bool pages_released = false;
  if (started) registry_slot_->enter_busy();
  for (;;) {
    if (refuse_proxy_header_ && client_begin_ < client_end_ && sends_proxy_header()) return HeadResult::Rejected;
    if (client_begin_ < client_end_ && !refuse_proxy_header_) {
      client_begin_ += request_parser_.feed(buffers_->client() + client_begin_, client_end_ - client_begin_);
      const MessageParser::Phase phase = request_parser_.phase();
      if (phase == MessageParser::Phase::Error) return refuse_head();
      if (phase == MessageParser::Phase::Body && !request().has_body()) {
        // Without a body the message ends with the head: finish it now, so a
        // reply needs no body handling and the next request starts clean.
        client_begin_ += request_parser_.feed(buffers_->client() + client_begin_, client_end_ - client_begin_);
      }
      if (phase != MessageParser::Phase::Head) return HeadResult::Ready;
    }
    if (client_begin_ == client_end_) client_begin_ = client_end_ = 0;
    Millis wait = std::chrono::duration_cast<Millis>((started ? deadline : idle_deadline) - Clock::now());
    if (!started && !pages_released) wait = std::min(wait, kQuietBeforeReleasingBuffers);
    if (!started && pages_released && wait.count() <= 0) return HeadResult::Closed;  // idle too long
    if (!started && first_request_) {
      // Not idle, so a stop does not shut it down: it looks at the stop itself.
      if (context_.registry.stopping() && Clock::now() - accepted_at_ >= kFirstRequestGrace) return HeadResult::Closed;
      wait = std::min(wait, kFirstRequestGrace);
    }
    const ssize_t n = wait.count() > 0 ? client_->read(buffers_->client() + client_end_,
                                                        ConnectionBuffers::kBufferBytes - client_end_, wait)
                                        : kTimeout;
    if (n == kTimeout && started) {
      reply_error(408, "request header timeout");
      return HeadResult::Rejected;
    }
    if (n == kTimeout && !pages_released) {
      buffers_->release_pages();  // quiet for a while: likely to stay so (both buffers are empty now)
      pages_released = true;
      continue;
    }
    if (n == kTimeout && first_request_ && Clock::now() < idle_deadline) continue;  // look at the stop again
    if (n <= 0) return HeadResult::Closed;  // client left, or idle too long
    if (!started) {
      started = true;
      deadline = Clock::now() + settings.header_timeout;
      registry_slot_->enter_busy();
    }
    client_end_ += static_cast<size_t>(n);
  }
}

Http1Connection::HeadResult Http1Connection::refuse_head() {
  if (request_parser_.head_too_large()) {
    reply_error(431, "request header fields too large");
  } else if (Refusal coding = request_parser_.transfer_encoding_refused() ? check_transfer_encoding(request())
                                                                          : Refusal{}) {
    reply_error(coding.status, coding.reason);
  } else {
    reply_error(400, std::string("malformed request: ") + request_parser_.error_text());
  }
  return HeadResult::Rejected;
}

bool Http1Connection::reply_error(int status, const std::string& message) {
  const std::string response = error_response(status, message, /*close=*/true, via_.header);
  client_->write_all(response.data(), response.size(), live_.value->proxy.client_timeout);
  return false;
}

// A reload (SIGHUP) applies from the next request head on (its wait uses the
// settings before it); the head size limit, which the parsers were built
// with, from the next connection on.
void Http1Connection::refresh_settings() {
  if (live_.refresh(context_.live)) via_ = ViaEntry(live_.value->proxy.via_name);
}

// Before the first request: a peer not in --proxy-protocol-from that starts
// with a PROXY header would choose its own address. Closed unanswered.
bool Http1Connection::sends_proxy_header() {
  const ProxyPrefix prefix = classify_proxy_prefix(buffers_->client(), client_end_);
  if (prefix == ProxyPrefix::Yes) {
    context_.proxy_header_refusals.note(client_ip_, "PROXY header", "peer not in --proxy-protocol-from");
    return true;
  }
  refuse_proxy_header_ = prefix == ProxyPrefix::Maybe;  // a few more bytes decide
  return false;
}

}  // namespace lb
