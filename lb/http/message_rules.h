// What a message must look like before the proxy passes it on, and when an
// upstream connection may carry another request (README "What is rejected,
// and why").
//
// A load balancer sits between strangers and services that trust it. Anything
// two HTTP implementations could read two ways (where a message ends, which
// host it is for) is refused here rather than forwarded and hoped for:
// requests get 400 (501 for a transfer coding we do not implement, 405 for
// CONNECT), responses from backends get 502. http-parser already refuses
// duplicate or signed Content-Length and Content-Length with
// Transfer-Encoding; MessageParser refuses control bytes in field names and
// values as they are parsed (has_control_byte()); these rules add what
// Debian's non-strict build lets through.
#pragma once

#include <string>
#include <string_view>

#include "lb/http/message_head.h"

namespace lb {

// Why a message is refused: an HTTP status and a reason for the JSON error.
// An empty reason means the message is acceptable.
struct Refusal {
  int status = 0;
  std::string reason;
  explicit operator bool() const { return !reason.empty(); }
};

// A control byte other than HTAB: NUL, CR, LF, the rest below 0x20, DEL.
// Backends split or cut lines differently at these, so no field name or
// value (head or trailer) may hold one.
bool has_control_byte(std::string_view text);

// The framing header (Content-Length, Transfer-Encoding; also Host and
// Connection, which say which service and how long the connection lives)
// that `name` disguises, or an empty view. A name disguises one when it has
// the same letters in the same order, ignoring case, begins and ends with a
// letter, and differs only in what lies between the letters:
// `Content_Length`, `content.length`, `Transfer---Encoding`, even
// `TransferEncoding` (nothing where the real name has '-'). CGI and many
// frameworks fold '-', '_' and case together, so such a name can reach the
// application as the real one. The real names themselves, in any case, are
// not disguises.
std::string_view disguised_framing_name(std::string_view name);

// Checks a request head (parsed, or built from HTTP/2 HEADERS): version, method,
// request-target, field names, control bytes in values,
// Host, obs-folds and Transfer-Encoding.
Refusal check_request_head(const MessageHead& request);

// Checks a backend's response head by the same rules (status line, names,
// folds, Transfer-Encoding). A non-empty result is the reason for a 502.
std::string check_response_head(const MessageHead& response);

// Checks the trailer fields of a chunked message (MessageParser does, as the
// message ends): names must be tokens that disguise no framing header, as in
// a head; MessageParser already refused control bytes, NUL and bare CR in them.
// Which fields are then dropped rather than forwarded: is_forbidden_trailer().
// A non-empty result is the reason the message is refused.
std::string check_trailer_fields(const TrailerFields& trailers);

// Transfer-Encoding must be exactly one `chunked`, given once: 400 when the
// list is malformed (empty elements, chunked twice or not last, parameters),
// 501 when it names a coding we do not implement (gzip, ...).
// `status_for_coding`: the status for an unknown coding (501 for requests).
Refusal check_transfer_encoding(const MessageHead& head, int status_for_coding = 501);

// The host the request is for: the authority of an absolute-form target
// (RFC 9112 3.2.2: it wins over the Host field), else the Host field's value.
// Only meaningful once check_request_head() passed.
std::string_view request_host(const MessageHead& request);

// True for `host[:port]` with host a reg-name or a bracketed IP literal
// (RFC 3986 3.2.2): no spaces, control bytes, '@', '/' or empty host.
bool is_valid_host(std::string_view host);

// Methods whose request body every implementation frames alike: POST, PUT,
// PATCH. Servers often ignore a body on other methods and read it as the
// next request, so such a body must never share a connection with another.
bool method_defines_body(std::string_view method);

// The request's body could be read as something else by the backend: it has
// one (Content-Length > 0 or chunked) and its method defines no body. It is
// still forwarded, with Connection: close, and the connection is not reused.
bool body_framing_is_risky(const MessageHead& request);

// What decides whether an upstream connection can take another request.
struct ExchangeEnd {
  bool risky_request_body = false;  // body_framing_is_risky(request)
  bool response_complete = false;   // the response was read to its end
  bool backend_keep_alive = false;  // the backend did not ask to close
  bool bytes_left_over = false;     // the backend sent more than the response
  int response_status = 0;
};

// A status by which the backend says it could not read our request as we
// sent it (400, 408, 411, 413, 414, 431, 501, 505): it may have stopped
// reading mid-message, and what it left is read as a next request whose
// answers arrive later (cpp-httplib answers an unknown method after its
// request line, then each header line as one more request).
bool status_doubts_framing(int status);

// True only when both sides must agree where the exchange ended.
bool may_reuse_upstream(const ExchangeEnd& end);

}  // namespace lb
