// ProxyConnection, part 5: step 6, the backend's response read and relayed
// to the client (see the steps in proxy_connection.h).
#include "lb/proxy/proxy_connection.h"

#include <algorithm>

#include "lb/http/message_rules.h"
#include "lb/proxy/client_response_head.h"

namespace lb {

namespace {

// How long a response head waits for the first bytes of its body before it
// goes to the client alone (relay_response()).
constexpr Millis kHeadWaitsForBody{50};

}  // namespace

// Reads the final response head; informational (1xx) responses are relayed.
ProxyConnection::Attempt ProxyConnection::read_response_head(Stream& upstream) {
  const bool head_request = request_parser_.head().view(request_parser_.head().method) == "HEAD";
  response_parser_.reset(head_request);
  response_parser_.set_body_sink(nullptr);
  bool got_bytes = false;
  for (;;) {
    if (upstream_begin_ < upstream_end_) {
      upstream_begin_ +=
          response_parser_.feed(buffers_->upstream() + upstream_begin_, upstream_end_ - upstream_begin_);
      if (response_parser_.phase() == MessageParser::Phase::Error) {
        return {Outcome::BadGateway, response_parser_.error_text()};
      }
      const MessageHead& response = response_parser_.head();
      if (response_parser_.phase() != MessageParser::Phase::Head) {
        std::string problem = check_response_head(response);
        if (!problem.empty()) return {Outcome::BadGateway, problem};
        if (response.status / 100 != 1 || response.status == 101) return {Outcome::Completed, ""};
        // 1xx: complete it (it has no body), pass it on to HTTP/1.1 clients, read on.
        if (response_parser_.phase() != MessageParser::Phase::Done) continue;
        if (request_parser_.head().http_minor >= 1 && !expects_continue_) {
          build_response_head(Framing::None);
          if (!client_->write_all(response_head_.data(), response_head_.size(), settings_.client_timeout)) {
            return {Outcome::Aborted, "client gone"};
          }
        }
        response_parser_.reset(head_request);
        continue;
      }
    }
    if (upstream_begin_ == upstream_end_) upstream_begin_ = upstream_end_ = 0;
    ssize_t n = upstream.read(buffers_->upstream() + upstream_end_, ConnectionBuffers::kBufferBytes - upstream_end_,
                              got_bytes ? settings_.backend_timeout : first_byte_wait_);
    if (n == kTimeout) return {Outcome::Timeout, "timeout"};
    if (n <= 0) {
      if (!got_bytes) return {Outcome::NoResponse, "connection closed"};
      return {Outcome::BadGateway, "connection closed mid-response"};
    }
    got_bytes = true;
    upstream_end_ += static_cast<size_t>(n);
  }
}

// Streams the response to the client, re-framing only where the client needs it.
ProxyConnection::Attempt ProxyConnection::relay_response(Stream& upstream) {
  const MessageHead& request = request_parser_.head();
  const MessageHead& response = response_parser_.head();
  const bool client_http11 = request.http_minor >= 1;
  if (response.status == 101 && !request.upgrade) return {Outcome::BadGateway, "101 without an Upgrade request"};
  const Framing framing = client_body_framing(response, request.view(request.method) == "HEAD", client_http11);
  if (framing == Framing::Close || context_.registry.stopping()) keep_client_ = false;
  build_response_head(framing);
  status_sent_ = response.status;

  client_writer_.start(client_.get(), framing, settings_.client_timeout);
  client_writer_.queue(response_head_.data(), response_head_.size());
  response_parser_.set_body_sink(&client_writer_);
  // The head waits briefly for the body's first bytes: they leave in one
  // write, and a backend that dies between its head and its body (killed,
  // crashed) has then sent the client nothing, so the request can still be
  // retried elsewhere (or answered 502) instead of cut short.
  bool head_held = true;
  while (response_parser_.phase() != MessageParser::Phase::Done) {
    if (upstream_begin_ < upstream_end_) {
      upstream_begin_ +=
          response_parser_.feed(buffers_->upstream() + upstream_begin_, upstream_end_ - upstream_begin_);
    }
    if (response_parser_.phase() == MessageParser::Phase::Error) {
      return {Outcome::Aborted, client_writer_.failed() ? "client gone" : "invalid response body"};
    }
    if (response_parser_.phase() == MessageParser::Phase::Done) break;
    if (head_held && client_writer_.body_bytes() > 0) head_held = false;
    // Queued bytes point into the upstream buffer: send them before reusing it
    // (a held head alone is ours, in response_head_).
    if (!head_held && !client_writer_.flush()) return {Outcome::Aborted, "client gone"};
    if (upstream_begin_ == upstream_end_) upstream_begin_ = upstream_end_ = 0;
    const Millis wait = head_held ? std::min(kHeadWaitsForBody, settings_.backend_timeout) : settings_.backend_timeout;
    ssize_t n = upstream.read(buffers_->upstream() + upstream_end_, ConnectionBuffers::kBufferBytes - upstream_end_, wait);
    if (head_held && n == kTimeout) {  // a slow body: the head goes ahead alone
      head_held = false;
      continue;
    }
    if (n == kEof) {
      response_parser_.feed_eof();  // ends a close-delimited body; anything else was cut short
      if (response_parser_.phase() == MessageParser::Phase::Done) break;
    }
    if (n <= 0 && head_held) {
      status_sent_ = 0;  // nothing reached the client
      return {Outcome::NoResponse, "connection closed after the response head"};
    }
    if (n == kEof) return {Outcome::Aborted, "backend closed mid-body"};
    if (n < 0) return {Outcome::Aborted, n == kTimeout ? "backend timeout mid-body" : "backend read error"};
    upstream_end_ += static_cast<size_t>(n);
  }
  if (!client_writer_.finish(&response_parser_.trailers())) return {Outcome::Aborted, "client gone"};
  body_bytes_sent_ = client_writer_.body_bytes();
  if (response.status == 101) {
    tunnel(upstream);
    return {Outcome::Aborted, "tunnel closed"};  // neither connection can carry HTTP again
  }
  return {Outcome::Completed, ""};
}

}  // namespace lb
