// An HTTP/2 request's head, built as an HTTP/1.1 request would carry it, so
// the same message rules check it (check_request_head()).
#include "lb/proxy/http2_request_head.h"

#include <catch2/catch.hpp>

#include "lb/http/http_headers.h"
#include "lb/http/message_rules.h"

namespace lb {

TEST_CASE("HTTP/2 head: pseudo-fields become the request line and Host", "[http2-head]") {
  Http2RequestHead collected;
  for (auto [name, value] : {std::pair{":method", "GET"}, {":scheme", "https"}, {":authority", "example.com"},
                             {":path", "/a?b=1"}, {"accept", "*/*"}, {"host", "ignored.example"}}) {
    REQUIRE(collected.add(name, value));
  }
  MessageHead head;
  collected.build(head, /*body_follows=*/false);
  CHECK(head.view(head.method) == "GET");
  CHECK(head.view(head.target) == "/a?b=1");
  CHECK(head.http_minor == 1);
  CHECK(find_header(head, "host") == "example.com");  // :authority wins
  CHECK(find_header(head, "accept") == "*/*");
  CHECK_FALSE(head.has_body());
  CHECK_FALSE(check_request_head(head));
}

TEST_CASE("HTTP/2 head: cookies are joined, framing comes from content-length or the stream", "[http2-head]") {
  Http2RequestHead collected;
  collected.add(":method", "POST");
  collected.add(":path", "/upload");
  collected.add(":authority", "h");
  collected.add("cookie", "a=1");
  collected.add("cookie", "b=2");
  MessageHead head;
  collected.build(head, /*body_follows=*/true);
  CHECK(find_header(head, "cookie") == "a=1; b=2");
  CHECK(head.chunked);  // a body without a length: chunked to the backend
  Http2RequestHead with_length = collected;
  with_length.add("content-length", "42");
  with_length.build(head, /*body_follows=*/true);
  CHECK_FALSE(head.chunked);
  CHECK(head.content_length == 42);
}

TEST_CASE("HTTP/2 head: connection-specific fields are refused", "[http2-head]") {
  Http2RequestHead collected;
  CHECK_FALSE(collected.add("connection", "close"));
  CHECK_FALSE(collected.add("transfer-encoding", "chunked"));
  CHECK_FALSE(collected.add("te", "gzip"));
  CHECK(collected.add("te", "trailers"));
  CHECK(collected.bytes() == std::string("tetrailers").size() + std::string("connectiontransfer-encodingte").size() +
                                 std::string("closechunkedgzip").size());
}

TEST_CASE("HTTP/2 head: the HTTP/1.1 rules still apply", "[http2-head]") {
  Http2RequestHead collected;
  collected.add(":method", "GET");
  collected.add(":path", "/");
  collected.add(":authority", "h");
  collected.add("x-ok", "a\x01" "b");  // a control byte nghttp2 lets through
  MessageHead head;
  collected.build(head, false);
  CHECK(check_request_head(head).status == 400);
  Http2RequestHead disguised;
  disguised.add(":method", "GET");
  disguised.add(":path", "/");
  disguised.add(":authority", "h");
  disguised.add("content_length", "5");
  disguised.build(head, false);
  CHECK(check_request_head(head).status == 400);
}

}  // namespace lb
