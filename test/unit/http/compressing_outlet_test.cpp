// CompressingOutlet (lb/http/compressing_outlet.h) over an HTTP/1.1
// BodyWriter: the client gets exact chunked framing with a last chunk (and
// the trailers), and the chunks' bytes decode to the body.
#include <catch2/catch.hpp>

#include <string>

#include "lb/http/compressing_outlet.h"
#include "test/support/decompress.h"
#include "test/support/memory_stream.h"

using namespace lb;

namespace {

struct Decoded {
  std::string body;
  size_t trailers = 0;
};

// Parses `chunked` (a chunked response without its head) to its end.
Decoded parse_chunked(const std::string& bytes) {
  struct Collect : BodySink {
    std::string body;
    bool on_body(const char* data, size_t len) override {
      body.append(data, len);
      return true;
    }
  } collect;
  MessageParser parser(HTTP_RESPONSE, 8192);
  parser.set_body_sink(&collect);
  const std::string message = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + bytes;
  size_t used = 0;
  while (used < message.size() && parser.phase() != MessageParser::Phase::Done &&
         parser.phase() != MessageParser::Phase::Error) {
    used += parser.feed(message.data() + used, message.size() - used);
  }
  REQUIRE(parser.phase() == MessageParser::Phase::Done);
  CHECK(used == message.size());  // nothing after the last chunk
  return {collect.body, parser.trailers().fields.size()};
}

}  // namespace

// Pieces in, relay-style flushes between them: chunked out, ended by the
// last chunk with the trailers, and the body decodes whole.
TEST_CASE("compressing outlet: chunked framing, decodes whole", "[compression]") {
  std::string body;
  for (int i = 0; i < 3000; ++i) body += "<li class=\"item\">entry " + std::to_string(i) + "</li>\n";
  for (const char* name : {"zstd", "br", "gzip"}) {
    INFO(name);
    const ContentCoding coding = choose_coding(std::string_view(name));
    test_support::MemoryStream out;
    BodyWriter writer;
    writer.start(&out, Framing::Chunked, Millis(1000));
    CompressingOutlet outlet(writer, make_compressor(coding, CompressionLevels{}));
    for (size_t at = 0; at < body.size(); at += 5000) {
      REQUIRE(outlet.on_body(body.data() + at, std::min<size_t>(5000, body.size() - at)));
      REQUIRE(outlet.flush());
    }
    CHECK(outlet.body_bytes() == body.size());
    TrailerFields trailers;
    trailers.arena = "X-Checksum" "abc";
    trailers.fields.push_back(HeaderField{Span{0, 10}, Span{10, 3}});
    REQUIRE(outlet.finish(&trailers));
    const Decoded decoded = parse_chunked(out.bytes);
    CHECK(decoded.trailers == 1);
    bool complete = false;
    CHECK(test_support::decode_body(name, decoded.body, &complete) == body);
    CHECK(complete);
    CHECK(writer.body_bytes() == decoded.body.size());  // what the client got, compressed
    CHECK(decoded.body.size() < body.size() / 5);
  }
}

// Each flush makes what came so far reach the client, decodable.
TEST_CASE("compressing outlet: a flush sends what came so far", "[compression]") {
  test_support::MemoryStream out;
  BodyWriter writer;
  writer.start(&out, Framing::Close, Millis(1000));
  CompressingOutlet outlet(writer, make_compressor(ContentCoding::Gzip, CompressionLevels{}));
  REQUIRE(outlet.on_body("data: 1\n\n", 9));
  REQUIRE(outlet.flush());
  CHECK(test_support::decode_gzip(out.bytes) == "data: 1\n\n");
  REQUIRE(outlet.flush());  // nothing new: nothing more sent
  const size_t sent = out.bytes.size();
  REQUIRE(outlet.flush());
  CHECK(out.bytes.size() == sent);
}
