// ResponseCompressor with libzstd's streaming API (ZSTD_compressStream2).
#include <zstd.h>

#include <stdexcept>

#include "lb/http/response_compressor.h"

namespace lb {

namespace {

class ZstdCompressor : public ResponseCompressor {
 public:
  ZstdCompressor(int level, uint64_t body_size) : context_(ZSTD_createCCtx()) {
    if (context_ == nullptr) throw std::runtime_error("zstd: cannot allocate a context");
    ZSTD_CCtx_setParameter(context_, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(context_, ZSTD_c_checksumFlag, 1);
    if (body_size != kUnknownSize) ZSTD_CCtx_setPledgedSrcSize(context_, body_size);
  }
  ~ZstdCompressor() override { ZSTD_freeCCtx(context_); }
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  bool write(const char* data, size_t len, EncodedSink& out) override {
    ZSTD_inBuffer in{data, len, 0};
    while (in.pos < in.size) {
      if (!step(in, ZSTD_e_continue, out)) return false;
    }
    return true;
  }
  bool flush(EncodedSink& out) override { return drain(ZSTD_e_flush, out); }
  bool finish(EncodedSink& out) override { return drain(ZSTD_e_end, out); }

 private:
  // One call into the library; `remaining` is what it still holds to write.
  bool step(ZSTD_inBuffer& in, ZSTD_EndDirective mode, EncodedSink& out, size_t* remaining = nullptr) {
    ZSTD_outBuffer buffer{output_, sizeof output_, 0};
    const size_t result = ZSTD_compressStream2(context_, &buffer, &in, mode);
    if (ZSTD_isError(result)) return false;
    if (remaining) *remaining = result;
    return buffer.pos == 0 || out.on_encoded(output_, buffer.pos);
  }
  bool drain(ZSTD_EndDirective mode, EncodedSink& out) {
    ZSTD_inBuffer none{nullptr, 0, 0};
    size_t remaining = 1;
    while (remaining != 0) {
      if (!step(none, mode, out, &remaining)) return false;
    }
    return true;
  }

  ZSTD_CCtx* context_;
  char output_[kOutputBytes];
};

}  // namespace

std::unique_ptr<ResponseCompressor> make_zstd_compressor(int level, uint64_t body_size) {
  return std::make_unique<ZstdCompressor>(level, body_size);
}

}  // namespace lb
