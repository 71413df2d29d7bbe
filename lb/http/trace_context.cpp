#include "lb/http/trace_context.h"

#include "lb/http/http_headers.h"

namespace lb {

namespace {

constexpr size_t kVersion00Length = 55;  // "00-" + 32 + "-" + 16 + "-" + 2

bool lower_hex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool all_zero(std::string_view text) { return text.find_first_not_of('0') == std::string_view::npos; }

int hex_digit(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

}  // namespace

std::optional<TraceParent> parse_traceparent(std::string_view value) {
  if (value.size() < kVersion00Length) return std::nullopt;
  const std::string_view version = value.substr(0, 2);
  if (!lower_hex(version) || version == "ff") return std::nullopt;
  // Version 00 is exactly 55 characters; a later one may add fields after a '-'.
  if (version == "00" ? value.size() != kVersion00Length
                      : value.size() > kVersion00Length && value[kVersion00Length] != '-') {
    return std::nullopt;
  }
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return std::nullopt;
  const std::string_view trace_id = value.substr(3, 32);
  const std::string_view parent_id = value.substr(36, 16);
  const std::string_view flags = value.substr(53, 2);
  if (!lower_hex(trace_id) || !lower_hex(parent_id) || !lower_hex(flags)) return std::nullopt;
  if (all_zero(trace_id) || all_zero(parent_id)) return std::nullopt;
  TraceParent parsed;
  parsed.trace_id = std::string(trace_id);
  parsed.parent_id = std::string(parent_id);
  parsed.flags = static_cast<uint8_t>(hex_digit(flags[0]) * 16 + hex_digit(flags[1]));
  return parsed;
}

std::string format_traceparent(std::string_view trace_id, std::string_view span_id, uint8_t flags) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(kVersion00Length);
  out.append("00-").append(trace_id).append("-").append(span_id).append("-");
  out.push_back(kHex[flags >> 4]);
  out.push_back(kHex[flags & 15]);
  return out;
}

std::string random_trace_id(size_t hex_digits, const RandomSource& random) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (;;) {
    id.clear();
    while (id.size() < hex_digits) {
      uint64_t bits = random();
      for (int i = 0; i < 16 && id.size() < hex_digits; ++i, bits >>= 4) id.push_back(kHex[bits & 15]);
    }
    if (!all_zero(id)) return id;  // all zero means "no id": draw again
  }
}

IncomingTrace incoming_trace(const MessageHead& request, const RandomSource& random) {
  std::optional<TraceParent> parent;
  int traceparent_fields = 0;
  std::string tracestate;
  for (size_t i = 0; i < request.fields.size(); ++i) {
    const std::string_view name = request.name(i);
    if (iequals(name, "traceparent")) {
      if (++traceparent_fields == 1) parent = parse_traceparent(request.value(i));
    } else if (iequals(name, "tracestate") && !request.value(i).empty()) {
      // Several tracestate fields are one list (RFC 9110 5.3).
      if (!tracestate.empty()) tracestate += ",";
      tracestate.append(request.value(i));
    }
  }
  IncomingTrace trace;
  if (!parent || traceparent_fields != 1) {  // none, malformed or ambiguous: a new trace, no tracestate
    trace.trace_id = random_trace_id(32, random);
    return trace;
  }
  trace.trace_id = std::move(parent->trace_id);
  trace.parent_span_id = std::move(parent->parent_id);
  trace.flags = parent->flags;
  trace.continued = true;
  if (tracestate.size() <= kMaxTracestateBytes) trace.tracestate = std::move(tracestate);
  return trace;
}

}  // namespace lb
