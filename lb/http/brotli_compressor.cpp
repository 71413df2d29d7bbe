// ResponseCompressor with libbrotlienc's streaming API
// (BrotliEncoderCompressStream).
#include <brotli/encode.h>

#include <algorithm>
#include <stdexcept>

#include "lb/http/response_compressor.h"

namespace lb {

namespace {

// A 1 MiB window (the library's default is 4 MiB): one connection's encoder
// state stays a few MiB at the levels we use, at little cost in ratio for
// web pages and API answers.
constexpr int kWindowBits = 20;

class BrotliCompressor : public ResponseCompressor {
 public:
  BrotliCompressor(int level, uint64_t body_size) : state_(BrotliEncoderCreateInstance(nullptr, nullptr, nullptr)) {
    if (state_ == nullptr) throw std::runtime_error("brotli: cannot allocate an encoder");
    BrotliEncoderSetParameter(state_, BROTLI_PARAM_QUALITY, static_cast<uint32_t>(level));
    BrotliEncoderSetParameter(state_, BROTLI_PARAM_LGWIN, kWindowBits);
    BrotliEncoderSetParameter(state_, BROTLI_PARAM_MODE, BROTLI_MODE_TEXT);
    if (body_size != kUnknownSize) {
      BrotliEncoderSetParameter(state_, BROTLI_PARAM_SIZE_HINT, static_cast<uint32_t>(std::min<uint64_t>(body_size, 1u << 30)));
    }
  }
  ~BrotliCompressor() override { BrotliEncoderDestroyInstance(state_); }
  BrotliCompressor(const BrotliCompressor&) = delete;
  BrotliCompressor& operator=(const BrotliCompressor&) = delete;

  bool write(const char* data, size_t len, EncodedSink& out) override {
    return run(BROTLI_OPERATION_PROCESS, reinterpret_cast<const uint8_t*>(data), len, out);
  }
  bool flush(EncodedSink& out) override { return run(BROTLI_OPERATION_FLUSH, nullptr, 0, out); }
  bool finish(EncodedSink& out) override { return run(BROTLI_OPERATION_FINISH, nullptr, 0, out); }

 private:
  // Calls the encoder until it has taken all of the input and, for a flush
  // or finish, given out all it holds.
  bool run(BrotliEncoderOperation operation, const uint8_t* in, size_t in_len, EncodedSink& out) {
    do {
      uint8_t* next_out = output_;
      size_t available_out = sizeof output_;
      if (!BrotliEncoderCompressStream(state_, operation, &in_len, &in, &available_out, &next_out, nullptr)) {
        return false;
      }
      const size_t produced = sizeof output_ - available_out;
      if (produced > 0 && !out.on_encoded(reinterpret_cast<const char*>(output_), produced)) return false;
    } while (in_len > 0 || BrotliEncoderHasMoreOutput(state_) ||
             (operation == BROTLI_OPERATION_FINISH && !BrotliEncoderIsFinished(state_)));
    return true;
  }

  BrotliEncoderState* state_;
  uint8_t output_[kOutputBytes];
};

}  // namespace

std::unique_ptr<ResponseCompressor> make_brotli_compressor(int level, uint64_t body_size) {
  return std::make_unique<BrotliCompressor>(level, body_size);
}

}  // namespace lb
