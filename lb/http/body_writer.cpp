#include "lb/http/body_writer.h"

#include <cstdio>

#include "lb/http/http_headers.h"

namespace lb {

namespace {
char kCrlf[] = "\r\n";
char kLastChunk[] = "0\r\n\r\n";
}  // namespace

void BodyWriter::start(Stream* out, Framing framing, Millis timeout, uint64_t max_body_bytes) {
  out_ = out;
  framing_ = framing;
  timeout_ = timeout;
  max_body_bytes_ = max_body_bytes;
  body_bytes_ = 0;
  failed_ = false;
  limit_exceeded_ = false;
  count_ = 0;
  chunk_headers_used_ = 0;
}

bool BodyWriter::queue(const char* data, size_t len) {
  if (failed_) return false;
  if (len == 0) return true;
  if (count_ == kMaxIov && !flush()) return false;
  iov_[count_++] = iovec{const_cast<char*>(data), len};
  return true;
}

bool BodyWriter::on_body(const char* data, size_t len) {
  body_bytes_ += len;
  if (max_body_bytes_ != 0 && body_bytes_ > max_body_bytes_) {
    limit_exceeded_ = true;
    return false;
  }
  if (framing_ != Framing::Chunked) return queue(data, len);

  if (count_ + 3 > kMaxIov || chunk_headers_used_ == kMaxIov / 3) {
    if (!flush()) return false;
  }
  char* header = chunk_sizes_[chunk_headers_used_++];
  int n = std::snprintf(header, sizeof chunk_sizes_[0], "%zx\r\n", len);
  return queue(header, static_cast<size_t>(n)) && queue(data, len) && queue(kCrlf, 2);
}

bool BodyWriter::finish(const TrailerFields* trailers) {
  if (framing_ == Framing::Chunked) {
    if (trailers == nullptr || trailers->empty()) {
      if (!queue(kLastChunk, sizeof kLastChunk - 1)) return false;
    } else {
      last_chunk_.assign("0\r\n");
      for (size_t i = 0; i < trailers->fields.size(); ++i) {
        if (!is_forbidden_trailer(trailers->name(i))) append_header(last_chunk_, trailers->name(i), trailers->value(i));
      }
      last_chunk_.append("\r\n");
      if (!queue(last_chunk_.data(), last_chunk_.size())) return false;
    }
  }
  return flush();
}

bool BodyWriter::flush() {
  if (failed_) return false;
  if (count_ > 0) {
    if (!out_->write_all(iov_, count_, timeout_)) failed_ = true;
  }
  count_ = 0;
  chunk_headers_used_ = 0;
  return !failed_;
}

}  // namespace lb
