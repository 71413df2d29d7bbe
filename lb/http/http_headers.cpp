#include "lb/http/http_headers.h"

namespace lb {

bool is_hop_by_hop(std::string_view name, std::string_view connection_values) {
  static constexpr std::string_view kAlways[] = {"connection", "keep-alive", "proxy-connection", "te",
                                                 "trailer",    "transfer-encoding", "upgrade"};
  for (auto hop : kAlways) {
    if (iequals(name, hop)) return true;
  }
  return !connection_values.empty() && header_list_contains(connection_values, name);
}

bool is_forbidden_trailer(std::string_view name) {
  if (is_hop_by_hop(name, {})) return true;  // Connection, TE, Trailer, Transfer-Encoding, ...
  static constexpr std::string_view kDropped[] = {
      "content-length",
      // routing, and the forwarding fields the load balancer writes
      "host", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "via",
      // request modifiers
      "cache-control", "expect", "max-forwards", "pragma", "range", "if-match", "if-none-match",
      "if-modified-since", "if-unmodified-since", "if-range",
      // authentication and cookies
      "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate", "cookie", "set-cookie",
      // response controls
      "age", "expires", "location", "retry-after", "vary",
      // how to read the content
      "content-encoding", "content-type", "content-range"};
  for (auto dropped : kDropped) {
    if (iequals(name, dropped)) return true;
  }
  return false;
}

std::string connection_tokens(const MessageHead& head) {
  std::string joined;
  for (size_t i = 0; i < head.fields.size(); ++i) {
    if (iequals(head.name(i), "connection")) {
      if (!joined.empty()) joined.push_back(',');
      joined.append(head.value(i));
    }
  }
  return joined;
}

std::string_view find_header(const MessageHead& head, std::string_view name, bool* found) {
  for (size_t i = 0; i < head.fields.size(); ++i) {
    if (iequals(head.name(i), name)) {
      if (found) *found = true;
      return head.value(i);
    }
  }
  if (found) *found = false;
  return {};
}

}  // namespace lb
