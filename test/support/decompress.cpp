#include "test/support/decompress.h"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include <stdexcept>

namespace test_support {

std::string decode_zstd(const std::string& encoded, bool* complete) {
  ZSTD_DCtx* context = ZSTD_createDCtx();
  std::string out;
  char buffer[16384];
  ZSTD_inBuffer in{encoded.data(), encoded.size(), 0};
  size_t hint = 1;
  while (in.pos < in.size || hint != 0) {
    ZSTD_outBuffer o{buffer, sizeof buffer, 0};
    hint = ZSTD_decompressStream(context, &o, &in);
    if (ZSTD_isError(hint)) {
      ZSTD_freeDCtx(context);
      throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(hint));
    }
    out.append(buffer, o.pos);
    if (o.pos == 0 && in.pos == in.size) break;  // a partial stream: all it gives for now
  }
  if (complete) *complete = hint == 0;
  ZSTD_freeDCtx(context);
  return out;
}

std::string decode_brotli(const std::string& encoded, bool* complete) {
  BrotliDecoderState* state = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
  std::string out;
  uint8_t buffer[16384];
  const uint8_t* next_in = reinterpret_cast<const uint8_t*>(encoded.data());
  size_t available_in = encoded.size();
  BrotliDecoderResult result;
  do {
    uint8_t* next_out = buffer;
    size_t available_out = sizeof buffer;
    result = BrotliDecoderDecompressStream(state, &available_in, &next_in, &available_out, &next_out, nullptr);
    out.append(reinterpret_cast<char*>(buffer), sizeof buffer - available_out);
  } while (result == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT);
  BrotliDecoderDestroyInstance(state);
  if (result == BROTLI_DECODER_RESULT_ERROR) throw std::runtime_error("brotli: invalid stream");
  if (complete) *complete = result == BROTLI_DECODER_RESULT_SUCCESS && available_in == 0;
  return out;
}

std::string decode_gzip(const std::string& encoded, bool* complete) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) throw std::runtime_error("zlib: inflateInit2");
  std::string out;
  Bytef buffer[16384];
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(encoded.data()));
  stream.avail_in = static_cast<uInt>(encoded.size());
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = buffer;
    stream.avail_out = sizeof buffer;
    result = inflate(&stream, Z_SYNC_FLUSH);
    out.append(reinterpret_cast<char*>(buffer), sizeof buffer - stream.avail_out);
    if (result == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) break;  // partial: all for now
  }
  inflateEnd(&stream);
  if (result != Z_OK && result != Z_STREAM_END && result != Z_BUF_ERROR) throw std::runtime_error("gzip: invalid stream");
  if (complete) *complete = result == Z_STREAM_END && stream.avail_in == 0;
  return out;
}

std::string decode_body(const std::string& coding, const std::string& encoded, bool* complete) {
  if (coding == "zstd") return decode_zstd(encoded, complete);
  if (coding == "br") return decode_brotli(encoded, complete);
  if (coding == "gzip") return decode_gzip(encoded, complete);
  throw std::invalid_argument("decode_body: unknown coding " + coding);
}

}  // namespace test_support
