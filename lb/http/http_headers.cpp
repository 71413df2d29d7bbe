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
