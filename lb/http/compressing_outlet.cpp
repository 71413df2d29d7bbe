#include "lb/http/compressing_outlet.h"

namespace lb {

bool CompressingOutlet::on_body(const char* data, size_t len) {
  if (failed()) return false;
  body_bytes_ += len;
  if (len == 0) return true;
  unflushed_ = true;
  if (!compressor_->write(data, len, *this)) failed_ = true;
  return !failed();
}

bool CompressingOutlet::flush() {
  if (failed()) return false;
  if (unflushed_) {
    unflushed_ = false;
    if (!compressor_->flush(*this)) failed_ = true;
  }
  return !failed() && client_.flush();
}

bool CompressingOutlet::finish(const TrailerFields* trailers) {
  if (failed()) return false;
  if (!compressor_->finish(*this)) failed_ = true;
  return !failed() && client_.finish(trailers);
}

bool CompressingOutlet::on_encoded(const char* data, size_t len) {
  return client_.on_body(data, len) && client_.flush();
}

}  // namespace lb
