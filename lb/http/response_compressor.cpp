#include "lb/http/response_compressor.h"

#include <stdexcept>

namespace lb {

std::unique_ptr<ResponseCompressor> make_compressor(ContentCoding coding, const CompressionLevels& levels) {
  switch (coding) {
    case ContentCoding::Zstd: return make_zstd_compressor(levels.zstd);
    case ContentCoding::Brotli: return make_brotli_compressor(levels.brotli);
    case ContentCoding::Gzip: return make_gzip_compressor(levels.gzip);
    case ContentCoding::Identity: break;
  }
  throw std::invalid_argument("make_compressor: identity is not an encoding");
}

}  // namespace lb
