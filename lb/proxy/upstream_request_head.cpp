#include "lb/proxy/upstream_request_head.h"

#include "lb/balancing/sticky_sessions.h"
#include "lb/http/http_headers.h"
#include "lb/http/message_rules.h"

namespace lb {

namespace {

// Ours to add unless the route's rules remove or replace it.
bool ours(const UpstreamHeadOptions& options, std::string_view name) {
  return (!options.rules || !options.rules->drops(name)) && (!options.edge_rules || !options.edge_rules->drops(name));
}

// X-Forwarded-For/-Proto/-Host (the client's X-Forwarded-For list with its
// address appended) and RFC 7239 Forwarded, as the flags ask.
void append_forwarding_fields(const UpstreamHeadOptions& options, std::string_view host, bool has_host,
                              std::string_view prior_forwarded_for, std::string& out) {
  if (options.x_forwarded_headers) {
    if (ours(options, "x-forwarded-for")) {
      out.append("X-Forwarded-For: ");
      if (!prior_forwarded_for.empty()) out.append(prior_forwarded_for).append(", ");
      out.append(options.client_ip).append("\r\n");
    }
    if (ours(options, "x-forwarded-proto")) append_header(out, "X-Forwarded-Proto", options.forwarded_proto);
    if (has_host && ours(options, "x-forwarded-host")) append_header(out, "X-Forwarded-Host", host);
  } else if (!prior_forwarded_for.empty()) {
    append_header(out, "X-Forwarded-For", prior_forwarded_for);  // not ours to drop
  }
  if (options.forwarded_header && ours(options, "forwarded")) {
    // RFC 7239: a new element after any the client sent (Forwarded lines are kept above).
    const bool ipv6 = options.client_ip.find(':') != std::string_view::npos;
    out.append("Forwarded: for=");
    if (ipv6) {
      out.append("\"[").append(options.client_ip).append("]\"");
    } else {
      out.append(options.client_ip);
    }
    out.append(";proto=").append(options.forwarded_proto);
    if (has_host) out.append(";host=\"").append(host).append("\"");
    out.append("\r\n");
  }
}

}  // namespace

void build_upstream_head(const MessageHead& request, const UpstreamHeadOptions& options, std::string& out) {
  out.clear();
  const std::string_view target = options.target.empty() ? request.view(request.target) : options.target;
  out.append(request.view(request.method)).append(" ").append(target).append(" HTTP/1.1\r\n");

  const std::string connection = connection_tokens(request);
  const std::string_view host = request_host(request);
  bool has_host = false;
  std::string_view prior_forwarded_for;
  for (size_t i = 0; i < request.fields.size(); ++i) {
    std::string_view name = request.name(i);
    std::string_view value = request.value(i);
    if (!ours(options, name)) continue;  // the rules never name Host or framing
    if (is_hop_by_hop(name, connection)) {
      if (request.upgrade && iequals(name, "upgrade")) append_header(out, name, value);  // asked to tunnel
      continue;
    }
    if (iequals(name, "host")) {
      value = host;  // the same as the field, unless the target is absolute-form
      has_host = true;
    } else if (iequals(name, "x-forwarded-for")) {
      // Several X-Forwarded-For lines are one list; we append ours to the end.
      if (!prior_forwarded_for.empty()) {
        out.append("X-Forwarded-For: ").append(prior_forwarded_for).append("\r\n");
      }
      prior_forwarded_for = value;
      continue;
    } else if (iequals(name, "x-forwarded-proto") || iequals(name, "x-forwarded-host") ||
               iequals(name, "x-client-cert-subject")) {
      continue;  // ours replace whatever the client claimed (a certificate subject only a handshake can tell)
    } else if (!options.traceparent.empty() && (iequals(name, "traceparent") || iequals(name, "tracestate"))) {
      continue;  // ours replace the client's (README "Traces")
    } else if (options.drop_expect && iequals(name, "expect")) {
      continue;
    } else if (options.sticky && iequals(name, "cookie")) {
      std::string others = options.sticky->strip_from(value);  // our cookie is ours alone
      if (!others.empty()) append_header(out, name, others);
      continue;
    }
    append_header(out, name, value);
  }
  // An HTTP/1.0 request may lack Host; HTTP/1.1 to the backend requires one.
  if (!has_host) append_header(out, "Host", host.empty() ? options.fallback_host : host);
  append_forwarding_fields(options, host, has_host, prior_forwarded_for, out);
  if (!options.client_cert_subject.empty() && ours(options, "x-client-cert-subject")) {
    append_header(out, "X-Client-Cert-Subject", options.client_cert_subject);
  }
  if (!options.request_id.empty()) append_header(out, options.request_id_header, options.request_id);
  if (!options.traceparent.empty()) {
    append_header(out, "traceparent", options.traceparent);
    if (!options.tracestate.empty()) append_header(out, "tracestate", options.tracestate);
  }
  if (options.rules) options.rules->append_to(out);
  if (options.edge_rules) options.edge_rules->append_to(out);
  if (ours(options, "via")) out.append(options.via_header);
  if (request.upgrade) {
    out.append("Connection: Upgrade\r\n");
  } else if (options.close_connection) {
    out.append("Connection: close\r\n");
  }
  if (request.chunked) out.append("Transfer-Encoding: chunked\r\n");
  out.append("\r\n");
}

}  // namespace lb
