// Decoders for what the load balancer compresses, with each library's own
// decoder (not ours: we only encode), for the unit tests of
// lb/http/response_compressor.h. `complete`: the stream's end was seen;
// without it, what a partial stream decodes to so far.
#pragma once

#include <string>

namespace test_support {

std::string decode_zstd(const std::string& encoded, bool* complete = nullptr);
std::string decode_brotli(const std::string& encoded, bool* complete = nullptr);
std::string decode_gzip(const std::string& encoded, bool* complete = nullptr);
// By Content-Encoding token: "zstd", "br" or "gzip".
std::string decode_body(const std::string& coding, const std::string& encoded, bool* complete = nullptr);

}  // namespace test_support
