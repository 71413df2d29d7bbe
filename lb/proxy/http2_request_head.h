// The request head of an HTTP/2 stream, collected field by field from its
// HEADERS frame on the connection's thread, then built into the same
// MessageHead an HTTP/1.1 request parses into, so the exchange checks and
// forwards both alike (lb/proxy/exchange.h): no HTTP/1.1 text in between.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lb/http/message_head.h"

namespace lb {

// RFC 9113 8.2.2: fields that mean nothing in HTTP/2 and would change
// framing if forwarded (TE is allowed as "trailers" only).
bool is_connection_specific(std::string_view name, std::string_view value);

// Appends one field (name and value bytes as given) to a head's or a
// trailer section's arena.
template <typename Fields>
void append_field(Fields& target, std::string_view name, std::string_view value) {
  HeaderField field;
  field.name = {static_cast<uint32_t>(target.arena.size()), static_cast<uint32_t>(name.size())};
  target.arena.append(name);
  field.value = {static_cast<uint32_t>(target.arena.size()), static_cast<uint32_t>(value.size())};
  target.arena.append(value);
  target.fields.push_back(field);
}

class Http2RequestHead {
 public:
  // One field of the HEADERS frame, as nghttp2 passes it (it has checked
  // pseudo-fields, case and CR/LF/NUL). False for a connection-specific field:
  // the stream must be reset.
  bool add(std::string_view name, std::string_view value);
  // The head as an HTTP/1.1 request would carry it: method and target from
  // :method and :path, Host from :authority, the cookie fields joined with
  // "; " (RFC 9113 8.2.3), framing from content-length, or chunked when a body
  // follows without one (`body_follows`: the HEADERS frame did not end the stream).
  void build(MessageHead& out, bool body_follows) const;
  // The fields' bytes so far (names and values), for --max-header-size.
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 0;
  std::string method_, path_, authority_, host_, cookies_;
  std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace lb
