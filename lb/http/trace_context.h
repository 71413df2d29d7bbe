// W3C Trace Context (README "Traces"): the `traceparent` and `tracestate`
// fields a client sends, continued, or a new trace when there are none or
// they are malformed; and the `traceparent` a backend is sent. Pure: the
// random ids come from a source the caller passes (tests inject one).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "lb/http/message_head.h"

namespace lb {

// 64 random bits per call.
using RandomSource = std::function<uint64_t()>;

struct TraceParent {
  std::string trace_id;   // 32 lower-case hex digits, not all zero
  std::string parent_id;  // 16 lower-case hex digits, not all zero
  uint8_t flags = 0;      // bit 0: sampled
};

// One `traceparent` value, strictly: version 00 is exactly
// "00-<32 hex>-<16 hex>-<2 hex>", lower case; a later version (not ff) is
// read by the same first 55 characters, and may go on after a '-'.
std::optional<TraceParent> parse_traceparent(std::string_view value);

// "00-<trace_id>-<span_id>-<flags>".
std::string format_traceparent(std::string_view trace_id, std::string_view span_id, uint8_t flags);

// A fresh id of `hex_digits` (16 or 32) lower-case hex digits, never all zero.
std::string random_trace_id(size_t hex_digits, const RandomSource& random);

// The request's place in a trace: the client's, or a new one.
struct IncomingTrace {
  std::string trace_id;
  std::string parent_span_id;  // the client's span; "" when the trace starts here
  uint8_t flags = 1;           // a new trace is sampled
  std::string tracestate;      // as received, fields joined by ","; "" when none or dropped
  bool continued = false;      // the client's traceparent was valid
};

// The longest tracestate passed on; a longer one is dropped whole.
constexpr size_t kMaxTracestateBytes = 512;

// Reads `traceparent` (exactly one field, valid) and `tracestate` (every
// field, joined by ",") from `request`; otherwise starts a trace with a
// random id and ignores any tracestate.
IncomingTrace incoming_trace(const MessageHead& request, const RandomSource& random);

}  // namespace lb
