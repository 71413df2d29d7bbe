// ProxyConnection, part 3: the message heads it writes. Header bytes pass
// through as received; only hop-by-hop headers are dropped, the forwarding
// headers (X-Forwarded-*, Forwarded, Via) added and the route's header rules
// applied. Both sides are pure functions, build_upstream_head()
// (upstream_request_head.h) and build_client_response_head()
// (client_response_head.h), fed this connection's facts. Our own answers
// (400, 404, 502, ...) are written by reply_error().
#include "lb/proxy/proxy_connection.h"

#include "lb/http/error_response.h"
#include "lb/http/http_headers.h"
#include "lb/proxy/client_response_head.h"
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
  ClientHeadOptions options;
  options.via_header = via_header_;
  options.rules = route_ && !route_->response_headers.empty() ? &route_->response_headers : nullptr;
  if (!request_id_.empty()) {
    options.request_id_header = settings_.request_id_header;
    options.request_id = request_id_;
  }
  options.sticky_set_cookie = sticky_set_cookie_;
  std::string trace;
  append_trace(trace);
  options.trace_header = trace;
  options.client_http11 = request_parser_.head().http_minor >= 1;
  options.keep_client = keep_client_;
  build_client_response_head(response_parser_.head(), framing, options, response_head_);
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
