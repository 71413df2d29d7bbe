#include "lb/proxy/client_response_head.h"

namespace lb {

bool response_is_bodiless(const MessageHead& response, bool head_request) {
  return head_request || response.status / 100 == 1 || response.status == 204 || response.status == 304;
}

Framing client_body_framing(const MessageHead& response, bool head_request, bool client_http11, bool compressed) {
  if (response_is_bodiless(response, head_request)) return Framing::None;
  if (response.content_length != kNoContentLength && !compressed) return Framing::Length;
  return client_http11 ? Framing::Chunked : Framing::Close;
}

CompressedFields::CompressedFields(const MessageHead& response) {
  for (size_t i = 0; i < response.fields.size(); ++i) {
    if (!iequals(response.name(i), "vary")) continue;
    const std::string_view value = response.value(i);
    if (header_list_contains(value, "accept-encoding") || header_list_contains(value, "*")) vary_covered_ = true;
  }
}

void build_client_response_head(const MessageHead& response, Framing framing, const ClientHeadOptions& options,
                                std::string& out) {
  out.clear();
  out.append("HTTP/1.1 ").append(std::to_string(response.status)).append(" ").append(response.view(response.reason));
  out.append("\r\n");
  for_each_client_field(response, options,
                        [&out](std::string_view name, std::string_view value) { append_header(out, name, value); });
  if (response.status / 100 == 1) {
    out.append(response.status == 101 ? "Connection: Upgrade\r\n\r\n" : "\r\n");
    return;
  }
  // A HEAD response keeps announcing the framing a GET would have had.
  const bool head_of_chunked = framing == Framing::None && response.chunked && options.client_http11;
  if (framing == Framing::Chunked || head_of_chunked) out.append("Transfer-Encoding: chunked\r\n");
  if (!options.keep_client) {
    out.append("Connection: close\r\n");
  } else if (!options.client_http11) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

}  // namespace lb
