// A response body's encoder: bytes in, a zstd, br or gzip stream out,
// through one fixed output buffer, so a body of any size takes the same
// memory (the library's window and state, plus kOutputBytes).
// One implementation per library (zstd_compressor.cpp,
// brotli_compressor.cpp, gzip_compressor.cpp); tested alone against each
// library's decoder (test/unit/http/response_compressor_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "lb/http/content_coding.h"

namespace lb {

// Takes encoded bytes as the encoder's buffer fills. `data` is valid only
// during the call. False stops the encoder (the peer is gone).
class EncodedSink {
 public:
  virtual ~EncodedSink() = default;
  virtual bool on_encoded(const char* data, size_t len) = 0;
};

class ResponseCompressor {
 public:
  static constexpr size_t kOutputBytes = 16 * 1024;

  virtual ~ResponseCompressor() = default;
  // Encodes `len` bytes; what fills the output buffer goes to `out`, the
  // rest may stay inside until flush() or finish().
  virtual bool write(const char* data, size_t len, EncodedSink& out) = 0;
  // Everything written so far, decodable now (a sync flush: the stream
  // goes on), to `out`. For a body that arrives slowly (server-sent
  // events, a long poll), so the client is not kept waiting on our buffer.
  virtual bool flush(EncodedSink& out) = 0;
  // Ends the stream: the rest and the format's end (checksum, last block)
  // to `out`. Nothing may be written after it.
  virtual bool finish(EncodedSink& out) = 0;
};

// Levels: each library's own scale (zstd 1-19, br 0-11, gzip 1-9). The
// defaults are where the CPU cost per MB starts to climb faster than the
// size falls (test/tools/compression_levels.cpp; the table in README
// "Compression").
struct CompressionLevels {
  int zstd = 3;
  int brotli = 3;
  int gzip = 4;
};

// The body's length when its Content-Length gave it, else kUnknownSize.
// Given, it must be exact (our parser holds the backend to it): zstd writes
// it into the frame and sizes its tables to it, which makes a 4 KB answer a
// third cheaper; brotli takes it as a hint.
constexpr uint64_t kUnknownSize = ~uint64_t{0};

// A fresh encoder for `coding` (not Identity) at its level in `levels`.
// Throws std::runtime_error when the library cannot make one (out of memory).
std::unique_ptr<ResponseCompressor> make_compressor(ContentCoding coding, const CompressionLevels& levels,
                                                    uint64_t body_size = kUnknownSize);

// One encoder per library, for make_compressor().
std::unique_ptr<ResponseCompressor> make_zstd_compressor(int level, uint64_t body_size);
std::unique_ptr<ResponseCompressor> make_brotli_compressor(int level, uint64_t body_size);
std::unique_ptr<ResponseCompressor> make_gzip_compressor(int level);

}  // namespace lb
