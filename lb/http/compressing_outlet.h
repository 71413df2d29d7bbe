// A BodyOutlet that compresses: the body given to it goes through a
// ResponseCompressor and what comes out to the client's own outlet (an
// HTTP/1.1 BodyWriter framing it chunked, or an HTTP/2 stream's DATA
// frames). The relay (lb/proxy/exchange_relay.cpp) writes to it as to any
// outlet, so one path carries plain and compressed bodies alike.
#pragma once

#include <memory>

#include "lb/http/body_writer.h"
#include "lb/http/response_compressor.h"

namespace lb {

class CompressingOutlet : public BodyOutlet, private EncodedSink {
 public:
  CompressingOutlet(BodyOutlet& client, std::unique_ptr<ResponseCompressor> compressor)
      : client_(client), compressor_(std::move(compressor)) {}

  // Body bytes in; encoded output goes out as the encoder's buffer fills.
  bool on_body(const char* data, size_t len) override;
  // The encoder is flushed too (when bytes came since its last flush), so a
  // slow stream reaches the client as it comes; the relay flushes once per
  // read from the backend, at most every 16 KiB of a fast one.
  bool flush() override;
  // The encoded stream's end, then the client outlet's (trailers and all).
  bool finish(const TrailerFields* trailers = nullptr) override;
  bool failed() const override { return failed_ || client_.failed(); }
  // Bytes taken from the backend (the client outlet counts those sent).
  uint64_t body_bytes() const override { return body_bytes_; }

 private:
  // Encoded bytes point into the compressor's buffer, which it reuses as
  // soon as this returns: they leave now.
  bool on_encoded(const char* data, size_t len) override;

  BodyOutlet& client_;
  std::unique_ptr<ResponseCompressor> compressor_;
  uint64_t body_bytes_ = 0;
  bool unflushed_ = false;  // bytes written to the encoder since its last flush
  bool failed_ = false;
};

}  // namespace lb
