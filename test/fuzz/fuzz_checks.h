// What both fuzz targets (request_fuzzer.cpp, response_fuzzer.cpp) share: body
// sinks, the invariant check, and the ways they feed a parser and list fields.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lb/http/body_writer.h"
#include "lb/http/http_headers.h"
#include "lb/http/http_message_parser.h"
#include "lb/http/message_rules.h"

namespace fuzz_checks {

using namespace lb;

constexpr size_t kMaxHead = 8192;

struct CollectBody : BodySink {
  std::string body;
  bool on_body(const char* data, size_t len) override {
    body.append(data, len);
    return true;
  }
};

// Both a sink for the body on its way out and a record of what was decoded.
struct TeeSink : BodySink {
  BodyOutlet* writer;  // a BodyWriter, or a CompressingOutlet in front of one
  std::string decoded;
  bool on_body(const char* data, size_t len) override {
    decoded.append(data, len);
    return writer->on_body(data, len);
  }
};

// A broken invariant is a finding: libFuzzer saves the input that caused it.
inline void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

// Trailer fields as "name: value\n" lines; `forwarded_only` leaves out those a proxy drops.
inline std::string trailer_lines(const TrailerFields& trailers, bool forwarded_only) {
  std::string lines;
  for (size_t i = 0; i < trailers.fields.size(); ++i) {
    if (forwarded_only && is_forbidden_trailer(trailers.name(i))) continue;
    lines.append(trailers.name(i)).append(": ").append(trailers.value(i)).append("\n");
  }
  return lines;
}

// Feeds `data` from `pos` in pieces of `piece` until the parser leaves `phase`.
inline void feed_while(MessageParser& parser, MessageParser::Phase phase, const uint8_t* data, size_t size,
                       size_t& pos, size_t piece) {
  while (parser.phase() == phase && pos < size) {
    size_t n = std::min(piece, size - pos);
    size_t used = parser.feed(reinterpret_cast<const char*>(data) + pos, n);
    pos += used;
    if (used == 0 && parser.phase() == phase) break;  // a stall would be a parser bug
  }
}

// No forwarded field (of a head or of trailers) could be read two ways: no
// control byte, no disguised framing name.
inline void require_clean_fields(const std::vector<HeaderField>& fields, const std::string& arena) {
  for (const HeaderField& field : fields) {
    std::string_view name = std::string_view(arena).substr(field.name.offset, field.name.length);
    std::string_view value = std::string_view(arena).substr(field.value.offset, field.value.length);
    require(!has_control_byte(name) && !has_control_byte(value), "no control byte in a forwarded field");
    require(disguised_framing_name(name).empty(), "no disguised framing name in a forwarded field");
  }
}

}  // namespace fuzz_checks
