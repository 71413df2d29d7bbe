// The strict HTTP/1.x parser wrapper: heads byte for byte, bodies streamed, smuggling refused.
#include <catch2/catch.hpp>

#include <string>

#include "lb/http/http_headers.h"
#include "lb/http/http_message_parser.h"

using namespace lb;

namespace {

struct CollectBody : BodySink {
  std::string body;
  bool on_body(const char* data, size_t len) override {
    body.append(data, len);
    return true;
  }
};

// Feeds `bytes` in pieces of `step` until the message ends; returns bytes consumed.
size_t feed_all(MessageParser& parser, const std::string& bytes, size_t step = 1000000) {
  size_t pos = 0;
  while (pos < bytes.size() && parser.phase() != MessageParser::Phase::Done &&
         parser.phase() != MessageParser::Phase::Error) {
    size_t n = std::min(step, bytes.size() - pos);
    size_t used = parser.feed(bytes.data() + pos, n);
    pos += used;
    if (used == 0 && parser.phase() == MessageParser::Phase::Head) break;
  }
  return pos;
}

}  // namespace

// Method, target, names and values come out exactly as sent, whatever the piece size.
TEST_CASE("request head is kept byte for byte", "[parser]") {
  const std::string request =
      "GET /a%20b?x=%26y&z HTTP/1.1\r\nHost: example.com\r\nX-Odd-Case: V a l\r\n"
      "Cookie: sid=s%3Aabc%26d\r\n\r\n";
  for (size_t step : {1, 3, 7, 1000}) {
    MessageParser parser(HTTP_REQUEST, 8192);
    feed_all(parser, request, step);
    REQUIRE(parser.phase() == MessageParser::Phase::Done);
    const MessageHead& head = parser.head();
    CHECK(head.view(head.method) == "GET");
    CHECK(head.view(head.target) == "/a%20b?x=%26y&z");
    REQUIRE(head.fields.size() == 3);
    CHECK(head.name(1) == "X-Odd-Case");
    CHECK(head.value(1) == "V a l");
    CHECK(head.value(2) == "sid=s%3Aabc%26d");
    CHECK(head.keep_alive);
  }
}

// Methods http-parser does not know still pass through as tokens.
TEST_CASE("unknown method tokens are accepted", "[parser]") {
  MessageParser parser(HTTP_REQUEST, 8192);
  feed_all(parser, "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", 2);
  REQUIRE(parser.phase() == MessageParser::Phase::Done);
  CHECK(parser.head().view(parser.head().method) == "BREW");
  MessageParser bad(HTTP_REQUEST, 8192);
  feed_all(bad, "BR{EW /pot HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(bad.phase() == MessageParser::Phase::Error);
}

// The parser stops at the end of the head, and again at the end of the message.
TEST_CASE("parser pauses after the head and at message end", "[parser]") {
  const std::string two = "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: x\r\n\r\n";
  MessageParser parser(HTTP_REQUEST, 8192);
  CollectBody sink;
  parser.set_body_sink(&sink);
  size_t used = parser.feed(two.data(), two.size());
  CHECK(parser.phase() == MessageParser::Phase::Body);
  CHECK(parser.head().content_length == 5);
  used += parser.feed(two.data() + used, two.size() - used);
  CHECK(parser.phase() == MessageParser::Phase::Done);
  CHECK(sink.body == "hello");
  CHECK(two.substr(used) == "GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
}

// Chunked bodies arrive de-chunked; chunk boundaries split anywhere still work.
TEST_CASE("chunked body is decoded", "[parser]") {
  const std::string request =
      "PUT /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
  for (size_t step : {1, 4, 1000}) {
    MessageParser parser(HTTP_REQUEST, 8192);
    CollectBody sink;
    parser.set_body_sink(&sink);
    feed_all(parser, request, step);
    REQUIRE(parser.phase() == MessageParser::Phase::Done);
    CHECK(parser.head().chunked);
    CHECK(sink.body == "hello world");
  }
}

// Ambiguous framing is an error, never a guess (request smuggling).
TEST_CASE("ambiguous or invalid framing is rejected", "[parser]") {
  auto rejects = [](const std::string& request) {
    MessageParser parser(HTTP_REQUEST, 8192);
    CollectBody sink;
    parser.set_body_sink(&sink);
    feed_all(parser, request);
    return parser.phase() == MessageParser::Phase::Error;
  };
  CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"));
  CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"));
  CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n"));
  CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n"));
  CHECK(rejects("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n0\r\n\r\n"));
}

// A head larger than the limit stops parsing with head_too_large() (431).
TEST_CASE("over-size head is detected", "[parser]") {
  MessageParser parser(HTTP_REQUEST, 1024);
  std::string request = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n";
  feed_all(parser, request, 100);
  CHECK(parser.phase() == MessageParser::Phase::Error);
  CHECK(parser.head_too_large());
}

// Responses: duplicate Set-Cookie kept, HEAD/204/304 bodiless, close-delimited recognised.
TEST_CASE("response heads and bodies", "[parser]") {
  {
    MessageParser parser(HTTP_RESPONSE, 8192);
    CollectBody sink;
    parser.set_body_sink(&sink);
    feed_all(parser, "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=%26\r\nContent-Length: 2\r\n\r\nok");
    REQUIRE(parser.phase() == MessageParser::Phase::Done);
    CHECK(parser.head().status == 200);
    CHECK(parser.head().view(parser.head().reason) == "OK");
    CHECK(parser.head().value(1) == "b=%26");
    CHECK(sink.body == "ok");
  }
  {
    MessageParser parser(HTTP_RESPONSE, 8192);
    parser.reset(/*bodiless_response=*/true);
    feed_all(parser, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    CHECK(parser.phase() == MessageParser::Phase::Done);
  }
  {
    MessageParser parser(HTTP_RESPONSE, 8192);
    feed_all(parser, "HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n");
    CHECK(parser.phase() == MessageParser::Phase::Done);
  }
  {
    MessageParser parser(HTTP_RESPONSE, 8192);
    CollectBody sink;
    parser.set_body_sink(&sink);
    feed_all(parser, "HTTP/1.1 200 OK\r\n\r\nuntil close");
    CHECK(parser.close_delimited());
    CHECK_FALSE(parser.head().keep_alive);
    CHECK(parser.phase() == MessageParser::Phase::Body);
    parser.feed_eof();
    CHECK(parser.phase() == MessageParser::Phase::Done);
    CHECK(sink.body == "until close");
  }
}

// HTTP/1.0 is keep-alive only when asked; HTTP/1.1 unless Connection: close.
TEST_CASE("keep-alive rules by version", "[parser]") {
  auto keep_alive = [](const std::string& request) {
    MessageParser parser(HTTP_REQUEST, 8192);
    feed_all(parser, request);
    return parser.head().keep_alive;
  };
  CHECK_FALSE(keep_alive("GET / HTTP/1.0\r\n\r\n"));
  CHECK(keep_alive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  CHECK(keep_alive("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK_FALSE(keep_alive("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
}

// An obs-fold marks the field it continues, wherever the reads split the head,
// even when the folded field's first line is empty.
TEST_CASE("obs-folds are marked on their field", "[parser]") {
  const std::string request =
      "GET  / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\nX-A: 1\r\nX-B: 2\r\n\t 3\r\n\r\n";
  for (size_t step : {1, 2, 5, 1000}) {
    INFO("step " << step);
    MessageParser parser(HTTP_REQUEST, 8192);
    feed_all(parser, request, step);
    REQUIRE(parser.phase() != MessageParser::Phase::Error);
    const MessageHead& head = parser.head();
    REQUIRE(head.fields.size() == 4);
    CHECK_FALSE(head.fields[0].folded);
    CHECK(head.fields[1].folded);
    CHECK(head.value(1) == "chunked");
    CHECK_FALSE(head.fields[2].folded);
    CHECK(head.fields[3].folded);
    CHECK(head.value(3) == "2\t 3");
  }
  MessageParser response(HTTP_RESPONSE, 8192);
  feed_all(response, "\r\nHTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n 3\r\nContent-Length: 0\r\n\r\n", 3);
  REQUIRE(response.head().fields.size() == 3);
  CHECK_FALSE(response.head().fields[0].folded);
  CHECK(response.head().fields[1].folded);
  CHECK_FALSE(response.head().fields[2].folded);
}

// The fields after a chunked body's last chunk are kept byte for byte, apart
// from the head, wherever the reads split them; other framings have none.
TEST_CASE("trailer fields of a chunked message are kept", "[parser][trailers]") {
  const std::string response =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Empty:\r\n\r\n5\r\nhello\r\n0\r\n"
      "grpc-status: 0\r\nX-Checksum:  abc \r\nX-Fold: a\r\n b\r\nContent-Length: 5\r\n\r\n";
  for (size_t step : {1, 3, 7, 1000}) {
    INFO("step " << step);
    MessageParser parser(HTTP_RESPONSE, 8192);
    CollectBody sink;
    parser.set_body_sink(&sink);
    feed_all(parser, response, step);
    REQUIRE(parser.phase() == MessageParser::Phase::Done);
    CHECK(sink.body == "hello");
    REQUIRE(parser.head().fields.size() == 2);  // the head is untouched
    CHECK(parser.head().name(1) == "X-Empty");
    CHECK(parser.head().value(1).empty());
    const TrailerFields& trailers = parser.trailers();
    REQUIRE(trailers.fields.size() == 4);
    CHECK(trailers.name(0) == "grpc-status");
    CHECK(trailers.value(0) == "0");
    CHECK(trailers.name(1) == "X-Checksum");
    CHECK(trailers.value(1) == "abc ");  // leading whitespace skipped, the rest as sent
    CHECK(trailers.value(2) == "a b");   // an obs-fold joined with a space, as in a head
    CHECK(trailers.name(3) == "Content-Length");  // kept here; BodyWriter drops it
  }
  MessageParser parser(HTTP_REQUEST, 8192);
  feed_all(parser, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n\r\n");
  REQUIRE(parser.phase() == MessageParser::Phase::Done);
  REQUIRE(parser.trailers().fields.size() == 1);
  CHECK(parser.trailers().value(0) == "1");
  parser.reset();  // a new message starts without the last one's trailers
  CHECK(parser.trailers().empty());
  feed_all(parser, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
  CHECK(parser.phase() == MessageParser::Phase::Done);
  CHECK(parser.trailers().empty());
}

// A trailer section gets the head's strictness: control bytes, NUL, bare CR,
// names that are no tokens or imitate framing headers, and more than the head
// limit make the message an error (it is cut off, never forwarded whole).
TEST_CASE("bad trailer bytes are refused", "[parser][trailers]") {
  auto error_for = [](const std::string& trailer_section, size_t limit = 8192) -> std::string {
    MessageParser parser(HTTP_RESPONSE, limit);
    CollectBody sink;
    parser.set_body_sink(&sink);
    feed_all(parser, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n" + trailer_section, 5);
    if (parser.phase() == MessageParser::Phase::Done) return "accepted";
    if (parser.phase() != MessageParser::Phase::Error) return "incomplete";
    return parser.error_text();
  };
  CHECK(error_for("X-A: b\r\n\r\n") == "accepted");
  CHECK(error_for("X-A: a" + std::string(1, '\0') + "b\r\n\r\n") != "accepted");
  CHECK(error_for("X-A: a\x01" "b\r\n\r\n") != "accepted");
  CHECK(error_for("X-A: a\x7f" "b\r\n\r\n") != "accepted");
  CHECK(error_for("X-A: a\rb\r\n\r\n") != "accepted");
  CHECK(error_for("X{A: b\r\n\r\n") != "accepted");
  CHECK(error_for("X-A : b\r\n\r\n") == "invalid trailer name");
  CHECK(error_for(" X-A: b\r\n\r\n") == "invalid trailer name");
  CHECK(error_for("Content_Length: 5\r\n\r\n") == "trailer name Content_Length imitates Content-Length");
  CHECK(error_for("X-Big: " + std::string(2000, 'a') + "\r\n\r\n", 1024) == "trailer section too large");
  std::string many_empty;
  for (int i = 0; i < 300; ++i) many_empty += "A:\r\n";  // 1 byte each, but each a field
  CHECK(error_for(many_empty + "\r\n", 1024) == "trailer section too large");
  CHECK(error_for(many_empty + "\r\n", 8192) == "accepted");
}

namespace {

// What the parser makes of `message` fed in pieces: "accepted" (the message
// ended), "incomplete", or its error text. `split` cuts the bytes in two reads
// at that position first; `step` sizes the reads after that.
std::string outcome(const std::string& message, http_parser_type type, size_t split, size_t step = 1000000) {
  MessageParser parser(type, 8192);
  CollectBody sink;
  parser.set_body_sink(&sink);
  size_t pos = parser.feed(message.data(), std::min(split, message.size()));
  while (pos < message.size() && parser.phase() != MessageParser::Phase::Done &&
         parser.phase() != MessageParser::Phase::Error) {
    size_t used = parser.feed(message.data() + pos, std::min(step, message.size() - pos));
    pos += used;
    if (used == 0 && parser.phase() == MessageParser::Phase::Head) break;
  }
  if (parser.phase() == MessageParser::Phase::Done) return "accepted";
  if (parser.phase() != MessageParser::Phase::Error) return "incomplete";
  return parser.error_text();
}

}  // namespace

// Debian's http-parser does not check a value's first byte (after the
// optional whitespace): "X: \0v" reached backends. Every byte of every name
// and value is checked, head or trailer, request or response, wherever reads
// split it, while obs-folds (SP or HTAB after CRLF) still join with a space.
TEST_CASE("control bytes in names and values are refused wherever reads split them", "[parser]") {
  const std::string nul(1, '\0');
  const std::vector<std::pair<std::string, std::string>> bad_fields = {
      {"NUL first in the value", "X: " + nul + "value"},
      {"NUL first, no whitespace", "X:" + nul + "value"},
      {"NUL first after a tab", "X:\t" + nul + "value"},
      {"NUL in the middle", "X: va" + nul + "lue"},
      {"NUL last", "X: value" + nul},
      {"NUL in a name", "X" + nul + "Y: value"},
      {"NUL first in a name", nul + "X: value"},
      {"NUL after a fold", "X: a\r\n " + nul + "b"},
      {"DEL first", "X: \x7fvalue"},
      {"DEL in a name", "X\x7f: value"},
      {"control byte first", "X: \x01value"},
      {"escape in the middle", "X: a\x1b[31mb"},
      {"bare CR first", "X: \rvalue"},
      {"bare CR in the middle", "X: a\rb"},
      {"vertical tab", "X: a\x0b" "b"},
  };
  const std::string request_head = "GET / HTTP/1.1\r\nHost: x\r\n";
  const std::string response_head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
  const std::string chunked_response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n";
  for (const auto& [what, field] : bad_fields) {
    const std::vector<std::pair<std::string, http_parser_type>> messages = {
        {request_head + field + "\r\n\r\n", HTTP_REQUEST},
        {response_head + field + "\r\n\r\n", HTTP_RESPONSE},
        {chunked_response + field + "\r\n\r\n", HTTP_RESPONSE},  // a trailer
    };
    for (const auto& [message, type] : messages) {
      for (size_t split = 0; split <= message.size(); ++split) {
        for (size_t step : {size_t{1}, size_t{2}, size_t{1000000}}) {
          INFO(what << ", split at " << split << ", then reads of " << step);
          CHECK(outcome(message, type, split, step) != "accepted");
        }
      }
    }
  }
  // Our own refusals say what they found (a bare CR is http-parser's).
  CHECK(outcome(request_head + "X: " + nul + "v\r\n\r\n", HTTP_REQUEST, 0) == "control byte in a header value");
  CHECK(outcome(request_head + "X:\x7f" "v\r\n\r\n", HTTP_REQUEST, 0) == "control byte in a header value");
  CHECK(outcome(chunked_response + "X: " + nul + "\r\n\r\n", HTTP_RESPONSE, 0) == "control byte in a trailer value");
}

// The fold's SP or HTAB reaches the value callback as the start of the next
// piece, never the CRLF before it: folded values are still accepted and joined.
TEST_CASE("obs-folds pass the control byte check at every split", "[parser]") {
  const std::string message = "GET / HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\n\tc\r\nX-Tab:\t\tv\tw\r\n\r\n";
  for (size_t split = 0; split <= message.size(); ++split) {
    INFO("split at " << split);
    MessageParser parser(HTTP_REQUEST, 8192);
    feed_all(parser, message.substr(0, split), 1);
    feed_all(parser, message.substr(split), 3);
    REQUIRE(parser.phase() == MessageParser::Phase::Done);
    REQUIRE(parser.head().fields.size() == 3);
    CHECK(parser.head().value(1) == "a b\tc");
    CHECK(parser.head().fields[1].folded);
    CHECK(parser.head().value(2) == "v\tw");
  }
}

// The non-strict parser takes any byte after the CR that ends the status line
// or the head for its LF, and swallows it ("\r\n\rabc": a body of "bc").
// The head's bytes are scanned for a CR without its LF at every split.
TEST_CASE("a bare CR ending a line of the head is refused", "[parser]") {
  const std::vector<std::pair<std::string, http_parser_type>> messages = {
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\rabc", HTTP_REQUEST},
      {"GET / HTTP/1.1\r\nHost: x\r\n\rGET /b HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_REQUEST},
      {"HTTP/1.1 200 OK\rXContent-Length: 0\r\n\r\n", HTTP_RESPONSE},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\rabc", HTTP_RESPONSE},
  };
  for (const auto& [message, type] : messages) {
    for (size_t split = 0; split <= message.size(); ++split) {
      INFO(message << " split at " << split);
      CHECK(outcome(message, type, split) != "accepted");
    }
  }
  CHECK(outcome(messages[0].first, HTTP_REQUEST, 0) == "bare CR in the header section");
  // Bare LF line ends (no CR at all) are still read as today.
  CHECK(outcome("GET / HTTP/1.1\nHost: x\nX: 1\n\n", HTTP_REQUEST, 0) == "accepted");
}
