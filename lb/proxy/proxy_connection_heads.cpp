// ProxyConnection, part 3: the message heads it writes. Header bytes pass
// through as received; only hop-by-hop headers are dropped, the forwarding
// headers (X-Forwarded-*, Forwarded, Via) added and the route's header rules
// applied. The request side is the pure build_upstream_head()
// (upstream_request_head.h), fed this connection's facts. Our own answers
// (400, 404, 502, ...) are written by reply_error().
#include "lb/proxy/proxy_connection.h"

#include "lb/http/error_response.h"
#include "lb/http/http_headers.h"
#include "lb/proxy/upstream_request_head.h"

namespace lb {

void ProxyConnection::build_upstream_head(const Backend& backend) {
  UpstreamHeadOptions options;
  options.client_ip = client_ip_;
  options.forwarded_proto = forwarded_proto_;
  options.via_header = via_header_;
  options.fallback_host = backend.host_header;
  options.sticky = pool_->sticky.get();
  options.x_forwarded_headers = settings_.x_forwarded_headers;
  options.forwarded_header = settings_.forwarded_header;
  options.drop_expect = expects_continue_;
  options.close_connection = risky_body_;
  options.target = routed_target_;
  options.rules = route_ ? &route_->request_headers : nullptr;
  if (request_id_is_new_) {
    options.request_id_header = settings_.request_id_header;
    options.request_id = request_id_;
  }
  lb::build_upstream_head(request_parser_.head(), options, upstream_head_);
}

void ProxyConnection::build_response_head(Framing framing) {
  const MessageHead& response = response_parser_.head();
  std::string& out = response_head_;
  out.clear();
  out.append("HTTP/1.1 ").append(std::to_string(response.status)).append(" ").append(response.view(response.reason));
  out.append("\r\n");
  const std::string connection = connection_tokens(response);
  const bool switching = response.status == 101;
  const HeaderRules* rules = route_ && !route_->response_headers.empty() ? &route_->response_headers : nullptr;
  for (size_t i = 0; i < response.fields.size(); ++i) {
    const std::string_view name = response.name(i);
    if (is_hop_by_hop(name, connection) && !(switching && iequals(name, "upgrade"))) continue;
    if (rules && rules->drops(name)) continue;
    if (!request_id_.empty() && iequals(name, settings_.request_id_header)) continue;  // ours is the one
    append_header(out, name, response.value(i));
  }
  if (!request_id_.empty()) append_header(out, settings_.request_id_header, request_id_);
  if (rules) rules->append_to(out);
  if (!rules || !rules->drops("via")) out.append(via_header_);
  if (response.status / 100 == 1) {
    out.append(switching ? "Connection: Upgrade\r\n\r\n" : "\r\n");
    return;
  }
  // A HEAD response keeps announcing the framing a GET would have had.
  const bool head_of_chunked = framing == Framing::None && response.chunked && request_parser_.head().http_minor >= 1;
  if (framing == Framing::Chunked || head_of_chunked) out.append("Transfer-Encoding: chunked\r\n");
  if (!sticky_set_cookie_.empty()) append_header(out, "Set-Cookie", sticky_set_cookie_);
  append_trace(out);
  if (!keep_client_) {
    out.append("Connection: close\r\n");
  } else if (request_parser_.head().http_minor == 0) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

bool ProxyConnection::reply_error(int status, const std::string& message, bool close,
                                  const std::string& extra_headers) {
  close = close || !keep_client_ || context_.registry.stopping();
  status_sent_ = status;
  std::string headers = extra_headers + via_header_;
  if (!request_id_.empty()) append_header(headers, settings_.request_id_header, request_id_);
  append_trace(headers);
  std::string response = error_response(status, message, close, headers);
  body_bytes_sent_ = response.size() - response.find("\r\n\r\n") - 4;
  bool sent = client_->write_all(response.data(), response.size(), settings_.client_timeout);
  return sent && !close;
}

}  // namespace lb
