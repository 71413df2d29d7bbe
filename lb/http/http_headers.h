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

// Trailer fields a proxy drops instead of passing on (RFC 9110 6.5.1: a
// recipient needs them before the content, so in a trailer they are either
// ignored or, by software that merges trailers into the head, misread):
// framing and hop-by-hop fields (Content-Length, Transfer-Encoding, Trailer,
// and those of is_hop_by_hop()), routing (Host) and the forwarding fields we
// own (Forwarded, X-Forwarded-*, Via), request modifiers (Cache-Control,
// Expect, Max-Forwards, Pragma, Range, If-*), authentication and cookies
// (Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate,
// Cookie, Set-Cookie), response controls (Age, Expires, Location,
// Retry-After, Vary) and how to read the content (Content-Encoding,
// Content-Type, Content-Range). Go's net/http refuses most of the same list.
bool is_forbidden_trailer(std::string_view name);

// All Connection header values of `head`, joined with ",".
std::string connection_tokens(const MessageHead& head);

// Appends "name: value\r\n" to a head being built.
inline void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

// The first value of header `name`, or an empty view (with `found` false).
std::string_view find_header(const MessageHead& head, std::string_view name, bool* found = nullptr);

}  // namespace lb
