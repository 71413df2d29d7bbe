// Writes one HTTP message's head and body to a Stream through a small iovec
// list, so a head and the body bytes parsed with it leave in one writev, and
// body bytes are sent straight from the read buffer they were parsed in.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <string>

#include "lb/http/http_message_parser.h"
#include "lb/transport/stream.h"

namespace lb {

// How the body is delimited on the outgoing side.
enum class Framing {
  None,     // no body
  Length,   // Content-Length (passed through unchanged)
  Chunked,  // re-chunked by us
  Close,    // raw bytes, the connection's close ends the body
};

// A message body on its way out, however the far side frames it: BodyWriter
// below (HTTP/1.1 bytes on a Stream), or an HTTP/2 stream's DATA frames
// (lb/proxy/http2_stream_client.h). Bytes given to on_body() may point into
// the caller's buffer: they must be sent by the next flush().
class BodyOutlet : public BodySink {
 public:
  // Sends everything queued. False when the peer is gone or too slow.
  virtual bool flush() = 0;
  // The body ended, with `trailers` (nullptr or empty: none): sends the rest.
  virtual bool finish(const TrailerFields* trailers = nullptr) = 0;
  virtual bool failed() const = 0;
  virtual uint64_t body_bytes() const = 0;
};

class BodyWriter : public BodyOutlet {
 public:
  // Starts a message towards `out`. `max_body_bytes` 0 means unlimited.
  void start(Stream* out, Framing framing, Millis timeout, uint64_t max_body_bytes = 0);

  // Queues bytes that must stay valid until the next flush() (e.g. the head).
  bool queue(const char* data, size_t len);
  // BodySink: frames and queues body bytes; flushes when the list is full.
  bool on_body(const char* data, size_t len) override;
  // Queues the chunked terminator if any, with `trailers` in it (those
  // is_forbidden_trailer() names are dropped; other framings cannot carry
  // trailers, so they are lost there), then flushes.
  bool finish(const TrailerFields* trailers = nullptr) override;
  bool flush() override;

  bool failed() const override { return failed_; }
  bool limit_exceeded() const { return limit_exceeded_; }
  uint64_t body_bytes() const override { return body_bytes_; }

 private:
  static constexpr int kMaxIov = 48;
  Stream* out_ = nullptr;
  Framing framing_ = Framing::None;
  Millis timeout_{0};
  uint64_t max_body_bytes_ = 0;
  uint64_t body_bytes_ = 0;
  bool failed_ = false;
  bool limit_exceeded_ = false;
  int count_ = 0;
  struct iovec iov_[kMaxIov];
  char chunk_sizes_[kMaxIov / 3][20];  // storage for "<hex>\r\n" chunk headers
  int chunk_headers_used_ = 0;
  std::string last_chunk_;  // "0\r\n", trailer fields, "\r\n" (reused, no allocation once warm)
};

}  // namespace lb
