#include "lb/http_headers.h"

#include <cctype>

namespace lb {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (unsigned char c : text) {
    if (!std::isalnum(c) && std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  // ASCII folding without the locale: std::tolower showed up in profiles.
  auto fold = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; };
  for (size_t i = 0; i < a.size(); ++i) {
    if (fold(a[i]) != fold(b[i])) return false;
  }
  return true;
}

bool header_list_contains(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

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
