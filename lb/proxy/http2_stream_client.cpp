#include "lb/proxy/http2_stream_client.h"

#include <cctype>
#include <chrono>
#include <random>
#include <thread>

#include "common/http_text.h"
#include "lb/http/error_response.h"
#include "lb/http/http_headers.h"
#include "lb/proxy/connection_buffers.h"
#include "lb/proxy/exchange.h"

namespace lb {

namespace {

// HTTP/2 field names are lower case (RFC 9113 8.2.1); values lose the
// whitespace around them, which HTTP/1.1 does not count as part of a value
// and HTTP/2 forbids there.
void add_field(Http2Fields& fields, std::string_view name, std::string_view value) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  fields.emplace_back(std::move(lower), std::string(common::trim_ows(value)));
}

// A worker thread's own, so a stream costs no seeding and no allocation.
std::minstd_rand& thread_random() {
  thread_local std::minstd_rand random(static_cast<unsigned>(
      std::chrono::steady_clock::now().time_since_epoch().count() ^ std::hash<std::thread::id>()(std::this_thread::get_id())));
  return random;
}

}  // namespace

Http2StreamClient::Http2StreamClient(ProxyContext& context, std::shared_ptr<Http2Stream> stream,
                                     const char* forwarded_proto, std::string client_ip, std::string client_cert_subject,
                                     std::shared_ptr<const LiveSettings> live, std::shared_ptr<const Topology> topology)
    : context_(context),
      stream_(std::move(stream)),
      forwarded_proto_(forwarded_proto),
      client_ip_(std::move(client_ip)),
      client_cert_subject_(std::move(client_cert_subject)),
      live_(std::move(live)),
      topology_(std::move(topology)),
      request_read_(!stream_->request.has_body()) {}

void Http2StreamClient::serve() {
  ConnectionRegistry::OpenStream counted(context_.registry);
  const ProxySettings& settings = live_->proxy;
  const ViaEntry via(settings.via_name);
  const ExchangeSetup setup{context_,   *live_,      *topology_, client_ip_, forwarded_proto_,
                            client_cert_subject_, via.header, via.value(), thread_random()};
  if (stream_->head_too_large) {  // as an HTTP/1.1 head would be (no exchange: nothing to account)
    reply(431, error_body("request header fields too large"), true, {{"via", std::string(via.value())}});
    return;
  }
  ConnectionBuffers::Handle buffers = ConnectionBuffers::for_connection();  // this worker thread's spare set
  // The worker thread's own, kept for its next stream: no parser built per stream.
  thread_local std::unique_ptr<UpstreamScratch> upstream;
  if (!upstream || upstream->max_head_bytes != settings.max_header_bytes) {
    upstream = std::make_unique<UpstreamScratch>(settings.max_header_bytes);
  }
  upstream->buffer = buffers->upstream();
  Exchange exchange(setup, *this, *upstream);
  exchange.run();
}

BodyPass Http2StreamClient::pass_request_body(BodyWriter& upstream, std::string&) {
  char buffer[ConnectionBuffers::kBufferBytes];
  while (!request_read_) {
    const ssize_t n = stream_->read_body(buffer, sizeof buffer, live_->proxy.client_timeout);
    if (n == kEof) {
      request_read_ = true;
      break;
    }
    if (n <= 0) return BodyPass::ClientGone;
    if (!upstream.on_body(buffer, static_cast<size_t>(n))) {
      return upstream.limit_exceeded() ? BodyPass::TooLarge : BodyPass::UpstreamFailed;
    }
    if (!upstream.flush()) return BodyPass::UpstreamFailed;
  }
  const TrailerFields trailers = stream_->take_trailers();
  return upstream.finish(&trailers) ? BodyPass::Done : BodyPass::UpstreamFailed;
}

BodyOutlet& Http2StreamClient::start_response(const MessageHead& response, ClientHeadOptions& options) {
  pending_.has_head = true;
  pending_.status = response.status;
  pending_.fields.clear();
  for_each_client_field(response, options,
                        [this](std::string_view name, std::string_view value) { add_field(pending_.fields, name, value); });
  const MessageHead& request = stream_->request;
  pending_.bodiless = response_is_bodiless(response, request.view(request.method) == "HEAD");
  return *this;
}

bool Http2StreamClient::reply(int status, const std::string& body, bool, const ExtraFields& fields) {
  pending_.has_head = true;
  pending_.status = status;
  pending_.fields = {{"content-type", "application/json"},
                     {"content-length", std::to_string(body.size())},
                     {"cache-control", "no-store"}};
  for (const auto& [name, value] : fields) add_field(pending_.fields, name, value);
  pending_.bodiless = stream_->request.view(stream_->request.method) == "HEAD";
  if (!pending_.bodiless) pending_.body = body;
  pending_.complete = true;
  return flush() && false;  // the stream ends with it
}

bool Http2StreamClient::on_body(const char* data, size_t len) {
  body_bytes_ += len;
  pending_.body.append(data, len);
  return !failed_;
}

bool Http2StreamClient::flush() {
  if (!failed_ && !stream_->deliver(pending_, live_->proxy.client_timeout)) failed_ = true;
  return !failed_;
}

bool Http2StreamClient::finish(const TrailerFields* trailers) {
  if (trailers) {
    for (size_t i = 0; i < trailers->fields.size(); ++i) {
      if (!is_forbidden_trailer(trailers->name(i))) add_field(pending_.trailers, trailers->name(i), trailers->value(i));
    }
  }
  pending_.complete = true;
  return flush();
}

}  // namespace lb
