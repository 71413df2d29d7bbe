#include "lb/http/response_compressor.h"

#include <stdexcept>

namespace lb {

std::unique_ptr<ResponseCompressor> make_compressor(ContentCoding coding, const CompressionLevels& levels,
                                                    uint64_t body_size) {
  switch (coding) {
    case ContentCoding::Zstd: return make_zstd_compressor(levels.zstd, body_size);
    case ContentCoding::Brotli: return make_brotli_compressor(levels.brotli, body_size);
    case ContentCoding::Gzip: return make_gzip_compressor(levels.gzip);
    case ContentCoding::Identity: break;
  }
  throw std::invalid_argument("make_compressor: identity is not an encoding");
}

}  // namespace lb
