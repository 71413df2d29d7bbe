// Whether a response is compressed on its way to the client, and with
// what (--compress, per route "compress"; README "Compression"). Pure, so
// every case that must pass untouched is a line in a table test
// (test/unit/http/compression_policy_test.cpp).
#pragma once

#include <cstdint>
#include <string_view>

#include "lb/http/content_coding.h"
#include "lb/http/message_head.h"

namespace lb {

// True for the media types worth compressing: text/*, JSON (and any
// +json), JavaScript, XML (and any +xml, SVG among them), wasm. `type` is
// a Content-Type value; its parameters and case do not matter.
bool is_compressible_type(std::string_view type);

// The coding to compress `response` with for `request`, or Identity to
// pass it as it came. Identity when: the request is HEAD or asks for a
// Range; the response is interim, 204, 304 or 206; it already has a
// Content-Encoding (never encoded twice); its type is not textual or not
// given; its Content-Length is below `min_size` (an unknown length counts
// as large); either side says Cache-Control: no-transform; or the
// client's Accept-Encoding accepts none of ours (choose_coding()); or the
// request is HTTP/1.0 (its framing would turn close-delimited).
ContentCoding compression_for(const MessageHead& request, const MessageHead& response, uint64_t min_size);

}  // namespace lb
