#include "lb/proxy/client_response_head.h"

#include "lb/http/http_headers.h"

namespace lb {

Framing client_body_framing(const MessageHead& response, bool head_request, bool client_http11) {
  const bool bodiless = head_request || response.status / 100 == 1 || response.status == 204 || response.status == 304;
  if (bodiless) return Framing::None;
  if (response.content_length != kNoContentLength) return Framing::Length;
  return client_http11 ? Framing::Chunked : Framing::Close;
}

void build_client_response_head(const MessageHead& response, Framing framing, const ClientHeadOptions& options,
                                std::string& out) {
  out.clear();
  out.append("HTTP/1.1 ").append(std::to_string(response.status)).append(" ").append(response.view(response.reason));
  out.append("\r\n");
  const std::string connection = connection_tokens(response);
  const bool switching = response.status == 101;
  const HeaderRules* rules = options.rules;
  const bool own_request_id = !options.request_id.empty();
  for (size_t i = 0; i < response.fields.size(); ++i) {
    const std::string_view name = response.name(i);
    if (is_hop_by_hop(name, connection) && !(switching && iequals(name, "upgrade"))) continue;
    if (rules && rules->drops(name)) continue;
    if (own_request_id && iequals(name, options.request_id_header)) continue;  // ours is the one
    append_header(out, name, response.value(i));
  }
  if (own_request_id) append_header(out, options.request_id_header, options.request_id);
  if (rules) rules->append_to(out);
  if (!rules || !rules->drops("via")) out.append(options.via_header);
  if (response.status / 100 == 1) {
    out.append(switching ? "Connection: Upgrade\r\n\r\n" : "\r\n");
    return;
  }
  // A HEAD response keeps announcing the framing a GET would have had.
  const bool head_of_chunked = framing == Framing::None && response.chunked && options.client_http11;
  if (framing == Framing::Chunked || head_of_chunked) out.append("Transfer-Encoding: chunked\r\n");
  if (!options.sticky_set_cookie.empty()) append_header(out, "Set-Cookie", options.sticky_set_cookie);
  out.append(options.trace_header);
  if (!options.keep_client) {
    out.append("Connection: close\r\n");
  } else if (!options.client_http11) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

}  // namespace lb
