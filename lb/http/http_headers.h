// Header rules shared by the request and response sides of the proxy.
#pragma once

#include <string>
#include <string_view>

#include "common/http_text.h"
#include "lb/http/message_head.h"

namespace lb {

// Token and list rules shared with the backend (common/http_text.h).
using common::header_list_contains;
using common::iequals;
using common::is_token;

// Hop-by-hop headers describe one connection, so a proxy must not pass them on
// (RFC 9110 7.6.1): Connection and every header it names, Keep-Alive,
// Proxy-Connection, TE, Trailer, Transfer-Encoding (re-framed by us) and Upgrade.
// `connection_values` are the message's Connection header values joined by ",".
bool is_hop_by_hop(std::string_view name, std::string_view connection_values);

// All Connection header values of `head`, joined with ",".
std::string connection_tokens(const MessageHead& head);

// Appends "name: value\r\n" to a head being built.
inline void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

// The first value of header `name`, or an empty view (with `found` false).
std::string_view find_header(const MessageHead& head, std::string_view name, bool* found = nullptr);

}  // namespace lb
