// Trailer fields through the real binaries: a backend's trailers reach
// HTTP/1.1 clients in the last chunk and HTTP/2 clients in a HEADERS frame
// that ends the stream; a client's reach the backend; the fields that must
// not be trailers (RFC 9110 6.5.1: framing, routing, cookies, ...) are dropped;
// a malformed trailer section cuts the message off instead of passing on.
#include <catch2/catch.hpp>

#include <string>

#include "test/support/h2_client.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/recording_backend.h"
#include "test/support/shell.h"

using namespace test_support;

namespace {

// A gRPC-like answer: the body, then its status and a checksum as trailers,
// and a Content-Length where it must not be. Two values end in whitespace,
// which HTTP/1.1 allows and HTTP/2 does not (RFC 9113 8.2.1).
const std::string kWithTrailers =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: grpc-status, X-Checksum\r\nX-Padded: v  \r\n\r\n"
    "5\r\nhello\r\n0\r\ngrpc-status: 0\r\nX-Checksum: abc \r\nContent-Length: 5\r\nSet-Cookie: s=1\r\n\r\n";

}  // namespace

// An HTTP/1.1 client gets the allowed trailers and not the forbidden ones, and
// its connection carries the next request; an HTTP/1.0 client, answered
// close-delimited, gets the body alone.
TEST_CASE("a backend's trailers reach HTTP/1.1 clients, less the forbidden ones", "[integration][trailers]") {
  RecordingBackend backend(kWithTrailers);
  LoadBalancerProcess lb({backend.url()});
  ScopedFd fd(connect_to(lb.port()));
  for (int i = 0; i < 2; ++i) {
    send_all(fd.get(), build_request("GET", "/grpc"));
    RawResponse res = read_response(fd.get());
    CHECK(res.status == 200);
    CHECK(res.chunked);
    CHECK(res.body == "hello");
    CHECK(res.trailers == HeaderList{{"grpc-status", "0"}, {"X-Checksum", "abc"}});
  }
  CHECK(backend.requests() == 2);

  RawResponse old = http_request(lb.port(), "GET /grpc HTTP/1.0\r\n\r\n");
  CHECK(old.status == 200);
  CHECK(old.until_close);
  CHECK(old.body == "hello");
  CHECK(old.trailers.empty());
}

// A client's trailers reach the backend in the last chunk, less those a proxy
// drops (a spoofed X-Forwarded-For, a Content-Length).
TEST_CASE("a client's trailers reach the backend, less the forbidden ones", "[integration][trailers]") {
  RecordingBackend backend;
  LoadBalancerProcess lb({backend.url()});
  RawResponse res = http_request(
      lb.port(), build_request("POST", "/up", {{"Transfer-Encoding", "chunked"}},
                               "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nContent-Length: 5\r\n"
                               "X-Forwarded-For: 6.6.6.6\r\ngrpc-timeout: 1S\r\n\r\n"));
  CHECK(res.status == 200);
  const std::string seen = backend.received();
  INFO(escaped(seen));
  CHECK_THAT(seen, Catch::EndsWith("\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: abc\r\ngrpc-timeout: 1S\r\n\r\n"));
  CHECK(seen.find("6.6.6.6") == std::string::npos);
}

// Trailer bytes get the checks head bytes get: a bad name from a backend cuts
// the response off (its head and body are already on the way), one from a
// client is a 400, and the backend never sees a whole request.
TEST_CASE("malformed trailers cut the message off", "[integration][trailers]") {
  RecordingBackend bad_backend(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum : abc\r\n\r\n");
  LoadBalancerProcess lb({bad_backend.url()});
  ScopedFd fd(connect_to(lb.port()));
  send_all(fd.get(), build_request("GET", "/"));
  try {
    read_response(fd.get());
    FAIL("the response was passed on whole");
  } catch (const RawHttpError& e) {
    // Cut off after the head and body went out, or before (when all came in one read).
    CHECK((e.kind() == RawHttpError::Kind::kTruncated || e.kind() == RawHttpError::Kind::kClosed));
  }

  RecordingBackend backend;
  LoadBalancerProcess lb2({backend.url()});
  RawResponse res = http_request(lb2.port(), build_request("POST", "/up", {{"Transfer-Encoding", "chunked"}},
                                                           "5\r\nhello\r\n0\r\nContent_Length: 0\r\n\r\n"));
  CHECK(res.status == 400);
  CHECK_THAT(res.body, Catch::Contains("trailer name Content_Length imitates Content-Length"));
  CHECK(backend.requests() == 0);
}

// HTTP/2: the backend's trailers come as a HEADERS frame that ends the stream,
// names lowercased, values trimmed (in the head too), forbidden ones dropped;
// a client's trailers reach the backend in the chunked body the worker sends.
// nghttp shows the same frames.
TEST_CASE("HTTP/2: trailers both ways, less the forbidden ones", "[integration][trailers][http2]") {
  RecordingBackend backend(kWithTrailers);
  LoadBalancerProcess lb({backend.url()}, {"--h2c"});
  H2Client client(lb.port());
  const int32_t get = client.get("/grpc");
  const int32_t post = client.post("/up", "hello", {{"x-checksum", "abc"}, {"x-forwarded-for", "6.6.6.6"}});
  REQUIRE(client.run_until([&] { return client.responses[get].closed && client.responses[post].closed; }));
  for (int32_t id : {get, post}) {
    const H2Client::Response& res = client.responses[id];
    CHECK(res.error == 0);
    CHECK(res.status == 200);
    CHECK(res.body == "hello");
    CHECK(res.trailers == HeaderList{{"grpc-status", "0"}, {"x-checksum", "abc"}});
  }
  CHECK(client.responses[get].headers == HeaderList{{"x-padded", "v"}, {"via", "1.1 cpp-lb"}});
  const std::string seen = backend.received();
  INFO(escaped(seen));
  CHECK_THAT(seen, Catch::Contains("\r\n\r\n5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n"));  // streams in any order
  CHECK(seen.find("6.6.6.6") == std::string::npos);

  auto [status, output] = shell("nghttp -v http://127.0.0.1:" + std::to_string(lb.port()) + "/grpc 2>&1");
  INFO(output);
  CHECK(status == 0);
  CHECK_THAT(output, Catch::Contains("grpc-status: 0") && Catch::Contains("x-checksum: abc"));
  CHECK_THAT(output, !Catch::Contains("content-length: 5") && !Catch::Contains("set-cookie"));
}
