// The response head the proxy sends a client, built from the backend's, and
// how the body is framed on the way.
//
// Header bytes pass through as received; hop-by-hop headers are dropped, Via
// and our own fields added, the route's response header rules applied, and
// the framing (Transfer-Encoding, Connection) written by us alone. One list
// of fields for both protocols (for_each_client_field()): HTTP/1.1 writes it
// as text under a status line (build_client_response_head()), HTTP/2 as a
// HEADERS frame (lb/proxy/http2_stream_client.cpp). Pure functions, so the
// response fuzz target (test/fuzz/response_fuzzer.cpp) can check that what
// they write parses back to the same response.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lb/http/body_writer.h"
#include "lb/http/http_headers.h"
#include "lb/http/message_head.h"
#include "lb/routing/header_rules.h"

namespace lb {

// True when a response carries no body whatever its fields say: the answer
// to a HEAD request, a 1xx, 204 or 304 (RFC 9110 6.4.1).
bool response_is_bodiless(const MessageHead& response, bool head_request);

// How a final response's body reaches the client: none for HEAD, 1xx, 204
// and 304; its Content-Length when it has one and is not `compressed` (we
// cannot know the compressed length before its end); otherwise (chunked or
// close-delimited from the backend) chunked to an HTTP/1.1 client, which
// keeps its connection, and raw bytes ended by a close to an HTTP/1.0 one.
Framing client_body_framing(const MessageHead& response, bool head_request, bool client_http11,
                            bool compressed = false);

struct ClientHeadOptions {
  std::string_view via_value;           // "1.1 <name>", our Via entry ("" when a rule drops Via)
  const HeaderRules* rules = nullptr;   // the route's response-headers (nullptr: none)
  std::string_view request_id_header;   // --request-id-header: ours replaces the backend's...
  std::string_view request_id;          // ...("" when off)
  std::string_view sticky_set_cookie;   // a sticky session's cookie to set ("" when none)
  std::string_view trace_value;         // X-LB-Trace's value ("" when off)
  bool client_http11 = true;            // the request was HTTP/1.1 (HTTP/2 counts as 1.1)
  bool keep_client = true;              // the client connection stays open after this response
  std::string_view content_encoding;    // the coding we compress the body with ("" when passed as it is)
};

// What compressing a body changes in its head (README "Compression"):
// Content-Length goes (the framing is ours), a strong ETag turns weak
// (W/"...": the bytes differ, the meaning does not), Vary gains
// Accept-Encoding, and Content-Encoding is added by for_each_client_field().
class CompressedFields {
 public:
  explicit CompressedFields(const MessageHead& response);
  // Calls `field` with the field as the client gets it, or not at all.
  template <typename Field>
  void pass(std::string_view name, std::string_view value, Field&& field) {
    if (iequals(name, "content-length")) return;
    if (iequals(name, "etag") && !value.empty() && value.front() == '"') {
      scratch_.assign("W/").append(value);
      field(name, std::string_view(scratch_));
    } else if (iequals(name, "vary") && !vary_covered_ && !vary_merged_) {
      vary_merged_ = true;
      scratch_.assign(value).append(common::trim_ows(value).empty() ? "Accept-Encoding" : ", Accept-Encoding");
      field(name, std::string_view(scratch_));
    } else {
      field(name, value);
    }
  }
  // Vary: Accept-Encoding when the response had no Vary to merge it into.
  bool needs_vary() const { return !vary_covered_ && !vary_merged_; }

 private:
  bool vary_covered_ = false;  // a Vary already names Accept-Encoding or is "*"
  bool vary_merged_ = false;   // Accept-Encoding was added to the first Vary
  std::string scratch_;        // the value being rewritten
};

// Calls `field(name, value)` for every field the client gets, framing aside:
// the backend's minus hop-by-hop ones and those a rule or our request id
// replaces, then our request id, the route's rules, Via, and for a final
// response the sticky cookie and the trace. An interim (1xx) response gets
// only Via of ours; 101 keeps its Upgrade.
template <typename Field>
void for_each_client_field(const MessageHead& response, const ClientHeadOptions& options, Field&& field) {
  const std::string connection = connection_tokens(response);
  const bool switching = response.status == 101;
  const HeaderRules* rules = options.rules;
  const bool own_request_id = !options.request_id.empty();
  const bool compressed = !options.content_encoding.empty() && response.status / 100 != 1;
  std::optional<CompressedFields> rewrite;
  if (compressed) rewrite.emplace(response);
  for (size_t i = 0; i < response.fields.size(); ++i) {
    const std::string_view name = response.name(i);
    if (is_hop_by_hop(name, connection) && !(switching && iequals(name, "upgrade"))) continue;
    if (rules && rules->drops(name)) continue;
    if (own_request_id && iequals(name, options.request_id_header)) continue;  // ours is the one
    if (compressed) {
      rewrite->pass(name, response.value(i), field);
    } else {
      field(name, response.value(i));
    }
  }
  if (compressed) {
    field(std::string_view("Content-Encoding"), options.content_encoding);
    if (rewrite->needs_vary()) field(std::string_view("Vary"), std::string_view("Accept-Encoding"));
  }
  if (own_request_id) field(options.request_id_header, options.request_id);
  if (rules) rules->for_each_added(field);
  if ((!rules || !rules->drops("via")) && !options.via_value.empty()) field(std::string_view("Via"), options.via_value);
  if (response.status / 100 == 1) return;
  if (!options.sticky_set_cookie.empty()) field(std::string_view("Set-Cookie"), options.sticky_set_cookie);
  if (!options.trace_value.empty()) field(std::string_view("X-LB-Trace"), options.trace_value);
}

// Writes the HTTP/1.1 head for `response` (already accepted by
// check_response_head()) into `out`, replacing what it held. A 1xx response
// is written as an interim one (101 with Connection: Upgrade); `framing` is
// client_body_framing()'s answer for a final one (Framing::None for a HEAD
// request still announces a chunked GET's Transfer-Encoding).
void build_client_response_head(const MessageHead& response, Framing framing, const ClientHeadOptions& options,
                                std::string& out);

}  // namespace lb
