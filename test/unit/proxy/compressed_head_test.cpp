// What compressing a body changes in the client's head
// (lb/proxy/client_response_head.h): Content-Encoding added,
// Content-Length gone and the body chunked, a strong ETag made weak, Vary
// merged or added; a response left as it is keeps all of them.
#include <catch2/catch.hpp>

#include <string>

#include "lb/http/http_message_parser.h"
#include "lb/proxy/client_response_head.h"

using namespace lb;

namespace {

std::string head_for(const std::string& response, std::string_view coding) {
  MessageParser parser(HTTP_RESPONSE, 8192);
  parser.feed(response.data(), response.size());
  REQUIRE(parser.phase() != MessageParser::Phase::Error);
  ClientHeadOptions options;
  options.via_value = "1.1 lb";
  options.content_encoding = coding;
  const Framing framing = client_body_framing(parser.head(), false, true, !coding.empty());
  std::string out;
  build_client_response_head(parser.head(), framing, options, out);
  return out;
}

}  // namespace

// The backend's fields (rewritten), then ours: Content-Encoding, Vary when
// there was none to merge into, Via, the framing.
TEST_CASE("compressed head: length dropped, chunked, ETag weak, Vary added", "[compression][client-head]") {
  const std::string response =
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\nETag: \"v1\"\r\n\r\n";
  CHECK(head_for(response, "br") ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nETag: W/\"v1\"\r\nContent-Encoding: br\r\n"
        "Vary: Accept-Encoding\r\nVia: 1.1 lb\r\nTransfer-Encoding: chunked\r\n\r\n");
  // Untouched: as it came.
  CHECK(head_for(response, "") ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\nETag: \"v1\"\r\nVia: 1.1 lb\r\n\r\n");
}

// Accept-Encoding joins the first Vary; a Vary that covers it already is left alone.
TEST_CASE("compressed head: Vary merged, weak ETag kept", "[compression][client-head]") {
  CHECK(head_for("HTTP/1.1 200 OK\r\nVary: Origin\r\nETag: W/\"x\"\r\nVary: Cookie\r\n\r\n", "gzip") ==
        "HTTP/1.1 200 OK\r\nVary: Origin, Accept-Encoding\r\nETag: W/\"x\"\r\nVary: Cookie\r\n"
        "Content-Encoding: gzip\r\nVia: 1.1 lb\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(head_for("HTTP/1.1 200 OK\r\nVary: accept-encoding, Origin\r\n\r\n", "zstd") ==
        "HTTP/1.1 200 OK\r\nVary: accept-encoding, Origin\r\nContent-Encoding: zstd\r\nVia: 1.1 lb\r\n"
        "Transfer-Encoding: chunked\r\n\r\n");
  CHECK(head_for("HTTP/1.1 200 OK\r\nVary: *\r\n\r\n", "zstd") ==
        "HTTP/1.1 200 OK\r\nVary: *\r\nContent-Encoding: zstd\r\nVia: 1.1 lb\r\nTransfer-Encoding: chunked\r\n\r\n");
}
