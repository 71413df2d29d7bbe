// ResponseCompressor (lb/http/response_compressor.h), each library alone:
// what it writes decodes with that library's own decoder to the bytes given,
// whatever the pieces they came in; flush() makes all of it decodable at
// once; finish() ends the stream; a refusing sink stops it.
#include <catch2/catch.hpp>
#include <zstd.h>

#include <string>

#include "lb/http/response_compressor.h"
#include "test/support/decompress.h"

using namespace lb;

namespace {

// Collects what an encoder writes; `refuse`: says no to everything.
struct StringSink : EncodedSink {
  std::string bytes;
  int calls = 0;
  bool refuse = false;
  bool on_encoded(const char* data, size_t len) override {
    ++calls;
    bytes.append(data, len);
    return !refuse;
  }
};

// A JSON list that compresses like an API answer does (keys repeat, values vary).
std::string json_body(size_t records) {
  std::string out = "[";
  for (size_t i = 0; i < records; ++i) {
    if (i) out += ",";
    out += "{\"id\":" + std::to_string(i * 7919 % 100003) + ",\"name\":\"user" + std::to_string(i) +
           "\",\"active\":" + (i % 3 ? "true" : "false") + ",\"score\":" + std::to_string(i * 31 % 997) + "}";
  }
  return out + "]";
}

const std::pair<ContentCoding, const char*> kCodings[] = {
    {ContentCoding::Zstd, "zstd"}, {ContentCoding::Brotli, "br"}, {ContentCoding::Gzip, "gzip"}};

}  // namespace

// The body in pieces of every awkward size (one byte, odd, larger than the
// output buffer) decodes to the same bytes, complete, and smaller.
TEST_CASE("compressor: round trip through each library's decoder", "[compression]") {
  const std::string body = json_body(20000);  // ~1 MB
  for (const auto& [coding, name] : kCodings) {
    INFO(name);
    auto compressor = make_compressor(coding, CompressionLevels{});
    StringSink sink;
    const size_t pieces[] = {1, 7, 4096, 16384, 65537, 300000};
    size_t at = 0;
    for (size_t i = 0; at < body.size(); ++i) {
      const size_t len = std::min(pieces[i % 6], body.size() - at);
      REQUIRE(compressor->write(body.data() + at, len, sink));
      at += len;
    }
    REQUIRE(compressor->finish(sink));
    bool complete = false;
    CHECK(test_support::decode_body(name, sink.bytes, &complete) == body);
    CHECK(complete);
    CHECK(sink.bytes.size() < body.size() / 4);
  }
}

// An empty body is still a whole, valid stream.
TEST_CASE("compressor: an empty body", "[compression]") {
  for (const auto& [coding, name] : kCodings) {
    INFO(name);
    auto compressor = make_compressor(coding, CompressionLevels{});
    StringSink sink;
    REQUIRE(compressor->finish(sink));
    bool complete = false;
    CHECK(test_support::decode_body(name, sink.bytes, &complete).empty());
    CHECK(complete);
  }
}

// After flush(), everything written so far decodes from the bytes out so
// far (a slow stream reaches the client as it comes); the stream goes on
// and ends whole.
TEST_CASE("compressor: flush makes what was written decodable", "[compression]") {
  for (const auto& [coding, name] : kCodings) {
    INFO(name);
    auto compressor = make_compressor(coding, CompressionLevels{});
    StringSink sink;
    REQUIRE(compressor->write("data: first event\n\n", 19, sink));
    REQUIRE(compressor->flush(sink));
    bool complete = true;
    CHECK(test_support::decode_body(name, sink.bytes, &complete) == "data: first event\n\n");
    CHECK_FALSE(complete);
    REQUIRE(compressor->write("data: second\n\n", 14, sink));
    REQUIRE(compressor->flush(sink));
    CHECK(test_support::decode_body(name, sink.bytes) == "data: first event\n\ndata: second\n\n");
    REQUIRE(compressor->finish(sink));
    CHECK(test_support::decode_body(name, sink.bytes, &complete) == "data: first event\n\ndata: second\n\n");
    CHECK(complete);
  }
}

// Output leaves through the fixed buffer: a body that does not compress
// arrives in several pieces, none larger than kOutputBytes.
TEST_CASE("compressor: output in pieces of at most the buffer", "[compression]") {
  std::string noise(200000, '\0');
  uint32_t x = 12345;
  for (char& c : noise) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 24);
  }
  for (const auto& [coding, name] : kCodings) {
    INFO(name);
    auto compressor = make_compressor(coding, CompressionLevels{});
    struct Bounded : StringSink {
      size_t largest = 0;
      bool on_encoded(const char* data, size_t len) override {
        largest = std::max(largest, len);
        return StringSink::on_encoded(data, len);
      }
    } sink;
    REQUIRE(compressor->write(noise.data(), noise.size(), sink));
    REQUIRE(compressor->finish(sink));
    CHECK(sink.calls > 1);
    CHECK(sink.largest <= ResponseCompressor::kOutputBytes);
    CHECK(test_support::decode_body(name, sink.bytes) == noise);
  }
}

// A sink that refuses (the client is gone) stops the encoder with false.
TEST_CASE("compressor: a refusing sink stops it", "[compression]") {
  for (const auto& [coding, name] : kCodings) {
    INFO(name);
    auto compressor = make_compressor(coding, CompressionLevels{});
    StringSink sink;
    sink.refuse = true;
    const std::string body = json_body(100);
    const bool ended = compressor->write(body.data(), body.size(), sink) && compressor->finish(sink);
    CHECK_FALSE(ended);
    CHECK(sink.calls == 1);  // nothing more after the first refusal
  }
}

// With the body's size known (its Content-Length), each coding still round
// trips, through flushes too; zstd writes the size into its frame.
TEST_CASE("compressor: a known body size", "[compression]") {
  const std::string body = json_body(300);
  for (const auto& [coding, name] : kCodings) {
    INFO(name);
    auto compressor = make_compressor(coding, CompressionLevels{}, body.size());
    StringSink sink;
    REQUIRE(compressor->write(body.data(), 1000, sink));
    REQUIRE(compressor->flush(sink));
    REQUIRE(compressor->write(body.data() + 1000, body.size() - 1000, sink));
    REQUIRE(compressor->finish(sink));
    bool complete = false;
    CHECK(test_support::decode_body(name, sink.bytes, &complete) == body);
    CHECK(complete);
    if (coding == ContentCoding::Zstd) {
      CHECK(ZSTD_getFrameContentSize(sink.bytes.data(), sink.bytes.size()) == body.size());
    }
  }
}
