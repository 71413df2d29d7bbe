// The response head the proxy sends a client, built from the backend's, and
// how the body is framed on the way.
//
// Header bytes pass through as received; hop-by-hop headers are dropped, Via
// and our own fields added, the route's response header rules applied, and
// the framing (Transfer-Encoding, Connection) written by us alone. Pure
// functions, so the response fuzz target (test/fuzz/response_fuzzer.cpp) can
// check that what they write parses back to the same response.
#pragma once

#include <string>
#include <string_view>

#include "lb/http/body_writer.h"
#include "lb/http/message_head.h"
#include "lb/routing/header_rules.h"

namespace lb {

// How a final response's body reaches the client: none for HEAD, 1xx, 204
// and 304; its Content-Length when it has one; otherwise (chunked or
// close-delimited from the backend) chunked to an HTTP/1.1 client, which
// keeps its connection, and raw bytes ended by a close to an HTTP/1.0 one.
Framing client_body_framing(const MessageHead& response, bool head_request, bool client_http11);

struct ClientHeadOptions {
  std::string_view via_header;          // "Via: 1.1 <name>\r\n", added as is ("" when a rule drops Via)
  const HeaderRules* rules = nullptr;   // the route's response-headers (nullptr: none)
  std::string_view request_id_header;   // --request-id-header: ours replaces the backend's...
  std::string_view request_id;          // ...("" when off)
  std::string_view sticky_set_cookie;   // a sticky session's cookie to set ("" when none)
  std::string_view trace_header;        // "X-LB-Trace: ...\r\n" ("" when off)
  bool client_http11 = true;            // the request was HTTP/1.1
  bool keep_client = true;              // the client connection stays open after this response
};

// Writes the head for `response` (already accepted by check_response_head())
// into `out`, replacing what it held. A 1xx response is written as an
// interim one (101 with Connection: Upgrade); `framing` is
// client_body_framing()'s answer for a final one (Framing::None for a HEAD
// request still announces a chunked GET's Transfer-Encoding).
void build_client_response_head(const MessageHead& response, Framing framing, const ClientHeadOptions& options,
                                std::string& out);

}  // namespace lb
