// ResponseCompressor with zlib's deflate in a gzip wrapper.
#include <zlib.h>

#include <stdexcept>

#include "lb/http/response_compressor.h"

namespace lb {

namespace {

constexpr int kGzipWindow = 15 + 16;  // 32 KiB window; +16: a gzip header and trailer, not zlib's
constexpr int kMemoryLevel = 8;       // zlib's default

class GzipCompressor : public ResponseCompressor {
 public:
  explicit GzipCompressor(int level) {
    if (deflateInit2(&stream_, level, Z_DEFLATED, kGzipWindow, kMemoryLevel, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error("gzip: cannot initialise deflate");
    }
  }
  ~GzipCompressor() override { deflateEnd(&stream_); }
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;

  bool write(const char* data, size_t len, EncodedSink& out) override {
    // zlib's avail_in is 32 bits: a larger piece goes in parts.
    while (len > 0) {
      const uInt part = len > (1u << 30) ? (1u << 30) : static_cast<uInt>(len);
      if (!run(Z_NO_FLUSH, data, part, out)) return false;
      data += part;
      len -= part;
    }
    return true;
  }
  bool flush(EncodedSink& out) override { return run(Z_SYNC_FLUSH, nullptr, 0, out); }
  bool finish(EncodedSink& out) override { return run(Z_FINISH, nullptr, 0, out); }

 private:
  // deflate() until the input is taken and, for a flush or finish, the
  // output drained (it fills the whole buffer while it has more).
  bool run(int mode, const char* in, uInt in_len, EncodedSink& out) {
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in));
    stream_.avail_in = in_len;
    for (;;) {
      stream_.next_out = output_;
      stream_.avail_out = sizeof output_;
      const int result = deflate(&stream_, mode);
      if (result == Z_STREAM_ERROR) return false;
      const size_t produced = sizeof output_ - stream_.avail_out;
      if (produced > 0 && !out.on_encoded(reinterpret_cast<const char*>(output_), produced)) return false;
      if (mode == Z_FINISH ? result == Z_STREAM_END : (stream_.avail_in == 0 && stream_.avail_out != 0)) return true;
    }
  }

  z_stream stream_{};
  Bytef output_[kOutputBytes];
};

}  // namespace

std::unique_ptr<ResponseCompressor> make_gzip_compressor(int level) { return std::make_unique<GzipCompressor>(level); }

}  // namespace lb
