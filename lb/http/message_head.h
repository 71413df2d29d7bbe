// The parsed head of one HTTP/1.x message: request or status line plus headers.
//
// Every byte lives in one arena string that is reused message after message, so
// parsing a head allocates nothing once the connection has warmed up. Names and
// values are kept exactly as they arrived.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace lb {

constexpr uint64_t kNoContentLength = std::numeric_limits<uint64_t>::max();

struct Span {
  uint32_t offset = 0;
  uint32_t length = 0;
};

struct HeaderField {
  Span name;
  Span value;
  bool folded = false;  // the value continued on another line (obs-fold, replaced by SP)
};

struct MessageHead {
  std::string arena;  // backing bytes for every Span below
  Span method;        // requests
  Span target;        // requests: the request-target, byte for byte
  Span reason;        // responses
  int status = 0;     // responses
  unsigned http_major = 1;
  unsigned http_minor = 1;
  std::vector<HeaderField> fields;
  bool chunked = false;
  uint64_t content_length = kNoContentLength;
  bool keep_alive = false;  // what the peer asked for (http_should_keep_alive)
  bool upgrade = false;     // Connection: upgrade + Upgrade present

  void clear() {
    arena.clear();
    method = target = reason = Span{};
    status = 0;
    http_major = http_minor = 1;
    fields.clear();
    chunked = false;
    content_length = kNoContentLength;
    keep_alive = false;
    upgrade = false;
  }

  std::string_view view(Span span) const { return std::string_view(arena).substr(span.offset, span.length); }
  std::string_view name(size_t i) const { return view(fields[i].name); }
  std::string_view value(size_t i) const { return view(fields[i].value); }

  // True when the message carries a body (by Content-Length > 0 or chunked).
  bool has_body() const { return chunked || (content_length != kNoContentLength && content_length > 0); }
};

// The trailer section of a chunked message (RFC 9112 7.1.2): the fields after
// the last chunk, byte for byte like a head's. They have their own arena, so
// views into the head stay valid while the body (and then these) is parsed.
struct TrailerFields {
  std::string arena;  // backing bytes for the spans in `fields`
  std::vector<HeaderField> fields;

  void clear() {
    arena.clear();
    fields.clear();
  }
  bool empty() const { return fields.empty(); }
  std::string_view view(Span span) const { return std::string_view(arena).substr(span.offset, span.length); }
  std::string_view name(size_t i) const { return view(fields[i].name); }
  std::string_view value(size_t i) const { return view(fields[i].value); }
};

}  // namespace lb
