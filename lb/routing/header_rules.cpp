#include "lb/routing/header_rules.h"

#include "lb/http/http_headers.h"

namespace lb {

bool HeaderRules::drops(std::string_view name) const {
  for (const auto& removed : remove) {
    if (iequals(name, removed)) return true;
  }
  for (const auto& [replaced, value] : set) {
    if (iequals(name, replaced)) return true;
  }
  return false;
}

void HeaderRules::append_to(std::string& head) const {
  for_each_added([&head](std::string_view name, std::string_view value) { append_header(head, name, value); });
}

std::string header_rule_refusal(std::string_view name, std::string_view value) {
  if (!is_token(name)) return "'" + std::string(name) + "' is not a header name";
  if (is_hop_by_hop(name, "") || iequals(name, "content-length") || iequals(name, "host")) {
    return "'" + std::string(name) + "' is a hop-by-hop or framing header and cannot be changed";
  }
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return "the value for '" + std::string(name) + "' has a control byte";
  }
  return "";
}

}  // namespace lb
