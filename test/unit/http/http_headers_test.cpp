// Hop-by-hop filtering and the Connection header.
#include <catch2/catch.hpp>

#include "lb/http/http_headers.h"
#include "lb/http/http_message_parser.h"

using namespace lb;

namespace {
MessageHead parse_head(const std::string& request) {
  MessageParser parser(HTTP_REQUEST, 8192);
  parser.feed(request.data(), request.size());
  return parser.head();
}
}  // namespace

// The fixed hop-by-hop list and whatever Connection names are not forwarded.
TEST_CASE("hop-by-hop headers", "[headers]") {
  for (auto name : {"Connection", "keep-alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade"}) {
    CHECK(is_hop_by_hop(name, ""));
  }
  CHECK_FALSE(is_hop_by_hop("Content-Length", ""));
  CHECK_FALSE(is_hop_by_hop("Set-Cookie", ""));
  CHECK(is_hop_by_hop("X-Secret", "close, x-secret"));
  CHECK(is_hop_by_hop("x-secret", "X-Other ,X-SECRET"));
  CHECK_FALSE(is_hop_by_hop("X-Secretive", "x-secret"));
}

// Connection values from several header lines are joined.
TEST_CASE("connection tokens are collected", "[headers]") {
  auto head = parse_head("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nConnection: X-A\r\n\r\n");
  CHECK(connection_tokens(head) == "keep-alive,X-A");
  CHECK(header_list_contains(connection_tokens(head), "x-a"));
}

// Trailer fields that would be misread after the content are dropped (RFC 9110
// 6.5.1), in any case; ordinary ones (gRPC status, checksums) pass.
TEST_CASE("forbidden trailer fields", "[headers][trailers]") {
  for (auto name : {"Content-Length", "transfer-encoding", "Trailer", "Connection", "TE", "Upgrade", "Host",
                    "X-Forwarded-For", "Authorization", "Set-Cookie", "Cookie", "Content-Type", "Content-Encoding",
                    "Content-Range", "Cache-Control", "Range", "If-None-Match", "Location", "WWW-Authenticate"}) {
    INFO(name);
    CHECK(is_forbidden_trailer(name));
  }
  for (auto name : {"grpc-status", "grpc-message", "X-Checksum", "Server-Timing", "Digest", "ETag", "Content-MD5"}) {
    INFO(name);
    CHECK_FALSE(is_forbidden_trailer(name));
  }
}
