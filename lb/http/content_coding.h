// Which content coding a response is compressed with: the codings we can
// write and the choice among them from a request's Accept-Encoding.
#pragma once

#include <string_view>

#include "lb/http/message_head.h"

namespace lb {

// The codings we write, in the order that breaks ties between equal
// q-values: zstd compresses about as well as br at a fraction of its CPU
// cost, and both beat gzip (README "Compression" has the numbers).
enum class ContentCoding { Identity, Zstd, Brotli, Gzip };

// "zstd", "br", "gzip" (the Content-Encoding token), "identity".
std::string_view coding_name(ContentCoding coding);

// The coding the client prefers among ours, by the q-values of every
// Accept-Encoding field of `request` (RFC 9110 12.5.3): q=0 refuses a
// coding, "*" stands for those not named, ties go to zstd, then br, then
// gzip. Identity when the request has no Accept-Encoding or accepts none of
// ours; an element whose q-value does not parse counts as refused.
ContentCoding choose_coding(const MessageHead& request);

// The same for one Accept-Encoding value (the fields joined with ",").
ContentCoding choose_coding(std::string_view accept_encoding);

}  // namespace lb
