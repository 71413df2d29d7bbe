// ProxyConnection, part 3: the message heads it writes. Header bytes pass
// through as received; only hop-by-hop headers are dropped and the forwarding
// headers (X-Forwarded-*, Forwarded, Via) added.
#include "lb/proxy_connection.h"

#include "lb/http_headers.h"

namespace lb {

void ProxyConnection::build_upstream_head(const Backend& backend) {
  const MessageHead& request = request_parser_.head();
  std::string& out = upstream_head_;
  out.clear();
  out.append(request.view(request.method)).append(" ").append(request.view(request.target)).append(" HTTP/1.1\r\n");

  const std::string connection = connection_tokens(request);
  std::string_view host;
  bool has_host = false;
  std::string_view prior_forwarded_for;
  for (size_t i = 0; i < request.fields.size(); ++i) {
    std::string_view name = request.name(i);
    std::string_view value = request.value(i);
    if (is_hop_by_hop(name, connection)) {
      if (request.upgrade && iequals(name, "upgrade")) append_header(out, name, value);  // asked to tunnel
      continue;
    }
    if (iequals(name, "host")) {
      host = value;
      has_host = true;
    } else if (iequals(name, "x-forwarded-for")) {
      // Several X-Forwarded-For lines are one list; we append ours to the end.
      if (!prior_forwarded_for.empty()) {
        out.append("X-Forwarded-For: ").append(prior_forwarded_for).append("\r\n");
      }
      prior_forwarded_for = value;
      continue;
    } else if (iequals(name, "x-forwarded-proto") || iequals(name, "x-forwarded-host")) {
      continue;  // ours replace whatever the client claimed
    } else if (expects_continue_ && iequals(name, "expect")) {
      continue;  // we answered 100-continue ourselves
    } else if (pool_->sticky && iequals(name, "cookie")) {
      std::string others = pool_->sticky->strip_from(value);  // our cookie is ours alone
      if (!others.empty()) append_header(out, name, others);
      continue;
    }
    append_header(out, name, value);
  }
  if (!has_host) {
    // An HTTP/1.0 request may lack Host; HTTP/1.1 to the backend requires one.
    append_header(out, "Host", backend.spec.port == 80 ? backend.spec.host
                                                      : backend.spec.host + ":" + std::to_string(backend.spec.port));
  }
  if (settings_.x_forwarded_headers) {
    out.append("X-Forwarded-For: ");
    if (!prior_forwarded_for.empty()) out.append(prior_forwarded_for).append(", ");
    out.append(client_ip_).append("\r\n");
    append_header(out, "X-Forwarded-Proto", forwarded_proto_);
    if (has_host) append_header(out, "X-Forwarded-Host", host);
  } else if (!prior_forwarded_for.empty()) {
    append_header(out, "X-Forwarded-For", prior_forwarded_for);  // not ours to drop
  }
  if (settings_.forwarded_header) {
    // RFC 7239: a new element after any the client sent (Forwarded lines are kept above).
    bool ipv6 = client_ip_.find(':') != std::string::npos;
    out.append("Forwarded: for=").append(ipv6 ? "\"[" + client_ip_ + "]\"" : client_ip_);
    out.append(";proto=").append(forwarded_proto_);
    if (has_host) out.append(";host=\"").append(host).append("\"");
    out.append("\r\n");
  }
  out.append(via_header_);
  if (request.upgrade) out.append("Connection: Upgrade\r\n");
  if (request.chunked) out.append("Transfer-Encoding: chunked\r\n");
  out.append("\r\n");
}

void ProxyConnection::build_response_head(Framing framing) {
  const MessageHead& response = response_parser_.head();
  std::string& out = response_head_;
  out.clear();
  out.append("HTTP/1.1 ").append(std::to_string(response.status)).append(" ").append(response.view(response.reason));
  out.append("\r\n");
  const std::string connection = connection_tokens(response);
  const bool switching = response.status == 101;
  for (size_t i = 0; i < response.fields.size(); ++i) {
    if (is_hop_by_hop(response.name(i), connection) && !(switching && iequals(response.name(i), "upgrade"))) continue;
    append_header(out, response.name(i), response.value(i));
  }
  out.append(via_header_);
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

}  // namespace lb
