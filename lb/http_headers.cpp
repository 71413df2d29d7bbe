#include "lb/http_headers.h"

namespace lb {

bool is_hop_by_hop(std::string_view name, std::string_view connection_values) {
  static constexpr std::string_view kAlways[] = {"connection", "keep-alive", "proxy-connection", "te",
                                                 "trailer",    "transfer-encoding", "upgrade"};
  for (auto hop : kAlways) {
    if (iequals(name, hop)) return true;
  }
  return !connection_values.empty() && header_list_contains(connection_values, name);
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

std::string validate_request(const MessageHead& head) {
  if (head.http_major != 1) return "unsupported HTTP version";
  if (iequals(head.view(head.method), "CONNECT")) return "CONNECT is not supported";
  std::string_view target = head.view(head.target);
  if (target.empty() || (target.front() != '/' && target != "*" &&
                         target.compare(0, 7, "http://") != 0 && target.compare(0, 8, "https://") != 0)) {
    return "invalid request target";
  }
  int hosts = 0;
  for (size_t i = 0; i < head.fields.size(); ++i) {
    std::string_view name = head.name(i);
    if (!is_token(name)) return "invalid header name";
    if (iequals(name, "host")) ++hosts;
  }
  if (hosts > 1) return "duplicate Host header";
  if (hosts == 0 && head.http_minor >= 1) return "missing Host header";
  return "";
}

}  // namespace lb
