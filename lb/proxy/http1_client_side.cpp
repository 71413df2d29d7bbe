// Http1Connection, part 2: the ClientSide an exchange drives, in HTTP/1.1
// framing: the request body as the parser decodes it, re-framed towards the
// backend; the response head built for this client and its body framed for
// it (client_response_head.h); our own answers; the interim responses.
#include <poll.h>

#include "lb/http/error_response.h"
#include "lb/http/http_headers.h"
#include "lb/proxy/http1_connection.h"

namespace lb {

namespace {
constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
}  // namespace

std::string Http1Connection::protocol() const { return "HTTP/1." + std::to_string(request().http_minor); }

// Streams the body from the client as it arrives; bytes the backend has not
// taken yet point into the client buffer, so they are sent before it is reused.
BodyPass Http1Connection::pass_request_body(BodyWriter& upstream, std::string& problem) {
  request_parser_.set_body_sink(&upstream);
  while (request_parser_.phase() != MessageParser::Phase::Done) {
    if (client_begin_ < client_end_) {
      client_begin_ += request_parser_.feed(buffers_->client() + client_begin_, client_end_ - client_begin_);
    }
    if (request_parser_.phase() == MessageParser::Phase::Error) {
      if (upstream.limit_exceeded()) return BodyPass::TooLarge;
      if (upstream.failed()) return BodyPass::UpstreamFailed;
      problem = request_parser_.error_text();
      return BodyPass::Invalid;
    }
    if (request_parser_.phase() == MessageParser::Phase::Done) break;
    if (!upstream.flush()) return BodyPass::UpstreamFailed;
    if (client_begin_ == client_end_) client_begin_ = client_end_ = 0;
    const ssize_t n = client_->read(buffers_->client() + client_end_, ConnectionBuffers::kBufferBytes - client_end_,
                                    live_.value->proxy.client_timeout);
    if (n <= 0) return BodyPass::ClientGone;
    client_end_ += static_cast<size_t>(n);
  }
  return upstream.finish(&request_parser_.trailers()) ? BodyPass::Done : BodyPass::UpstreamFailed;
}

// The peer closed or reset its side (pipelined bytes waiting to be read are
// no sign of it).
bool Http1Connection::client_gone() {
  pollfd watch{client_->fd(), POLLRDHUP, 0};
  return ::poll(&watch, 1, 0) > 0 && (watch.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

bool Http1Connection::send_continue() {
  return client_->write_all(kContinue, sizeof kContinue - 1, live_.value->proxy.client_timeout);
}

bool Http1Connection::send_interim(const MessageHead& response, const ClientHeadOptions& options) {
  build_client_response_head(response, Framing::None, options, response_head_);
  return client_->write_all(response_head_.data(), response_head_.size(), live_.value->proxy.client_timeout);
}

BodyOutlet& Http1Connection::start_response(const MessageHead& response, ClientHeadOptions& options) {
  const bool client_http11 = request().http_minor >= 1;
  const Framing framing = client_body_framing(response, request().view(request().method) == "HEAD", client_http11,
                                              !options.content_encoding.empty());
  if (framing == Framing::Close || context_.registry.stopping()) keep_client_ = false;
  options.client_http11 = client_http11;
  options.keep_client = keep_client_;
  build_client_response_head(response, framing, options, response_head_);
  client_writer_.start(client_.get(), framing, live_.value->proxy.client_timeout);
  client_writer_.queue(response_head_.data(), response_head_.size());
  return client_writer_;
}

bool Http1Connection::reply(int status, const std::string& body, bool close, const ExtraFields& fields) {
  close = close || !keep_client_ || context_.registry.stopping();
  if (close) keep_client_ = false;
  std::string headers;
  for (const auto& [name, value] : fields) append_header(headers, name, value);
  const std::string head = error_head(status, body.size(), close, headers);
  struct iovec parts[2] = {{const_cast<char*>(head.data()), head.size()}, {const_cast<char*>(body.data()), body.size()}};
  const bool sent = client_->write_all(parts, 2, live_.value->proxy.client_timeout);
  return sent && !close;
}

}  // namespace lb
