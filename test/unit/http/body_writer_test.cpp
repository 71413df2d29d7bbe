// BodyWriter: the framing it writes towards a peer, and trailer fields in the last chunk.
#include <catch2/catch.hpp>

#include <string>

#include "lb/http/body_writer.h"
#include "test/support/memory_stream.h"

using namespace lb;

namespace {

using test_support::MemoryStream;

// Parses `message` (a chunked response) to its end and returns its trailers.
TrailerFields trailers_of(const std::string& message) {
  MessageParser parser(HTTP_RESPONSE, 8192);
  size_t used = 0;
  while (used < message.size() && parser.phase() != MessageParser::Phase::Done &&
         parser.phase() != MessageParser::Phase::Error) {
    used += parser.feed(message.data() + used, message.size() - used);
  }
  REQUIRE(parser.phase() == MessageParser::Phase::Done);
  return parser.trailers();
}

// Writes "hello" with `framing`, then finish() with `trailers`; returns the bytes.
std::string written(Framing framing, const TrailerFields* trailers) {
  MemoryStream out;
  BodyWriter writer;
  writer.start(&out, framing, Millis(1000));
  REQUIRE(writer.on_body("hello", 5));
  REQUIRE(writer.finish(trailers));
  return out.bytes;
}

}  // namespace

// Chunked output ends with the kept trailer fields, in order and as sent;
// the ones a proxy drops (framing, hop-by-hop, cookies, ...) are left out.
TEST_CASE("chunked body ends with the trailer fields that may be forwarded", "[body_writer][trailers]") {
  const TrailerFields trailers = trailers_of(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\ngrpc-status: 0\r\nContent-Length: 5\r\n"
      "X-Checksum: abc\r\nset-cookie: a=1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
      "grpc-message: all%20good\r\n\r\n");
  REQUIRE(trailers.fields.size() == 7);
  CHECK(written(Framing::Chunked, &trailers) ==
        "5\r\nhello\r\n0\r\ngrpc-status: 0\r\nX-Checksum: abc\r\ngrpc-message: all%20good\r\n\r\n");
  const TrailerFields none;
  CHECK(written(Framing::Chunked, &none) == "5\r\nhello\r\n0\r\n\r\n");
  CHECK(written(Framing::Chunked, nullptr) == "5\r\nhello\r\n0\r\n\r\n");
  const TrailerFields only_dropped = trailers_of(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\nHost: x\r\n\r\n");
  CHECK(written(Framing::Chunked, &only_dropped) == "5\r\nhello\r\n0\r\n\r\n");
}

// Framings without a last chunk cannot carry trailers: HTTP/1.0 and
// close-delimited peers get the body alone.
TEST_CASE("trailers are lost where the framing has no place for them", "[body_writer][trailers]") {
  const TrailerFields trailers =
      trailers_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Checksum: abc\r\n\r\n");
  CHECK(written(Framing::Close, &trailers) == "hello");
  CHECK(written(Framing::Length, &trailers) == "hello");
}

// The writer is reused message after message: a message without trailers
// after one with them ends as plainly as ever.
TEST_CASE("a reused writer forgets the last message's trailers", "[body_writer][trailers]") {
  const TrailerFields trailers =
      trailers_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A: 1\r\n\r\n");
  MemoryStream out;
  BodyWriter writer;
  writer.start(&out, Framing::Chunked, Millis(1000));
  REQUIRE(writer.finish(&trailers));
  writer.start(&out, Framing::Chunked, Millis(1000));
  REQUIRE(writer.finish(nullptr));
  CHECK(out.bytes == "0\r\nX-A: 1\r\n\r\n0\r\n\r\n");
}
