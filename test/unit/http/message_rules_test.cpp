// What is rejected and what is never reused (lb/http/message_rules.h), case by case.
#include <catch2/catch.hpp>

#include <string>

#include "lb/http/http_message_parser.h"
#include "lb/http/message_rules.h"

using namespace lb;

namespace {

// Parses one head (whole, or up to the point http-parser refused it).
struct Parsed {
  MessageParser parser;
  explicit Parsed(const std::string& bytes, http_parser_type type = HTTP_REQUEST) : parser(type, 8192) {
    size_t used = parser.feed(bytes.data(), bytes.size());
    if (parser.phase() == MessageParser::Phase::Body && !parser.head().has_body()) {
      parser.feed(bytes.data() + used, bytes.size() - used);
    }
  }
  bool parsed() const { return parser.phase() != MessageParser::Phase::Error; }
  const MessageHead& head() const { return parser.head(); }
};

// The status and reason check_request_head() gives a request ("" when accepted).
Refusal request_refusal(const std::string& head) {
  Parsed p(head);
  REQUIRE(p.parsed());
  return check_request_head(p.head());
}

std::string request_reason(const std::string& head) { return request_refusal(head).reason; }

std::string response_problem(const std::string& head) {
  Parsed p(head, HTTP_RESPONSE);
  REQUIRE(p.parsed());
  return check_response_head(p.head());
}

const std::string kRequestLine = "GET / HTTP/1.1\r\n";

}  // namespace

// Ordinary requests pass: origin-form, HTTP/1.0 without Host, OPTIONS *, absolute-form, IPv6 Host.
TEST_CASE("well-formed requests are accepted", "[rules]") {
  CHECK(request_reason("GET /ok?q=1 HTTP/1.1\r\nHost: x\r\n\r\n").empty());
  CHECK(request_reason("GET /ok HTTP/1.0\r\n\r\n").empty());
  CHECK(request_reason("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").empty());
  CHECK(request_reason("GET http://example.com:8080/a?b HTTP/1.1\r\nHost: other\r\n\r\n").empty());
  CHECK(request_reason("GET HTTPS://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n").empty());
  CHECK(request_reason("GET / HTTP/1.1\r\nHost: [::1]:8000\r\n\r\n").empty());
  CHECK(request_reason("GET / HTTP/1.1\r\nHost: a.example-1.com:80 \r\n\r\n").empty());
  CHECK(request_reason("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").empty());
  CHECK(request_reason("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED \r\n\r\n").empty());
  CHECK(request_reason("GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n").empty());  // fold elsewhere: SP
}

// CONNECT is 405; TRACE with a body, bad versions and bad targets are 400.
TEST_CASE("methods, versions and request targets", "[rules]") {
  CHECK(request_refusal("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n").status == 405);
  Refusal trace = request_refusal("TRACE / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n");
  CHECK(trace.status == 400);
  CHECK(trace.reason == "TRACE request with a body");
  CHECK(request_reason("TRACE / HTTP/1.1\r\nHost: a\r\n\r\n").empty());
  CHECK(request_reason("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n") == "whitespace or control byte in the request target");
  CHECK(request_reason("GET /a\fb HTTP/1.1\r\nHost: a\r\n\r\n") == "whitespace or control byte in the request target");
  CHECK(request_reason("GET * HTTP/1.1\r\nHost: a\r\n\r\n") == "asterisk target on a method other than OPTIONS");
  CHECK(request_reason("GET ftp://x/ HTTP/1.1\r\nHost: a\r\n\r\n") == "invalid request target");
  CHECK(request_reason("GET http://u:p@x/ HTTP/1.1\r\nHost: x\r\n\r\n") == "userinfo in the request target");
  CHECK(request_reason("GET http:///x HTTP/1.1\r\nHost: x\r\n\r\n") == "invalid host in the request target");
  CHECK_FALSE(Parsed("GET http://a b/ HTTP/1.1\r\nHost: x\r\n\r\n").parsed());  // http-parser: 400 already
}

// Host: exactly one in HTTP/1.1, and a valid host[:port].
TEST_CASE("Host must be present, single and valid", "[rules]") {
  CHECK(request_reason("GET /ok HTTP/1.1\r\n\r\n") == "missing Host header");
  CHECK(request_reason("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == "duplicate Host header");
  CHECK(request_reason("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n") == "duplicate Host header");
  for (std::string bad : {"a b", "user@a", "a/b", "", ":80", "a:", "a:123456", "a:8x", "[::1", "[]", "a%2", "a\"b",
                          "a\\b", "a?b", "a:80:90"}) {
    INFO("Host: " << bad);
    CHECK(request_reason(kRequestLine + "Host: " + bad + "\r\n\r\n") == "invalid Host header");
  }
  CHECK(is_valid_host("example.com"));
  CHECK(is_valid_host("EXAMPLE.com:65535"));
  CHECK(is_valid_host("a%2Db"));
  CHECK(is_valid_host("[2001:db8::1]:443"));
  CHECK(is_valid_host("127.0.0.1"));
}

// Names must be tokens and may not imitate framing headers; folds may not land in them.
TEST_CASE("field names and folds", "[rules]") {
  CHECK(request_reason(kRequestLine + "Host: x\r\nHo st: y\r\n\r\n") == "invalid header name");
  CHECK(request_reason("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n") == "invalid header name");
  CHECK(request_reason(kRequestLine + "Host: x\r\nContent_Length: 5\r\n\r\n") ==
        "header name Content_Length imitates Content-Length");
  CHECK(request_reason(kRequestLine + "Host: x\r\ntransfer_encoding: chunked\r\n\r\n") ==
        "header name transfer_encoding imitates Transfer-Encoding");
  CHECK(request_reason(kRequestLine + "Host: x\r\nContent.Length: 5\r\n\r\n") ==
        "header name Content.Length imitates Content-Length");
  CHECK(request_reason(kRequestLine + "Host: x\r\nX_Content_Length: 5\r\n\r\n").empty());  // not a framing name
  CHECK(request_reason(kRequestLine + "Host: a\r\n b\r\n\r\n") != "");  // "a b" is no host either way
  CHECK(request_reason(kRequestLine + "Host:\r\n a\r\n\r\n") == "line folding in the Host header");
  CHECK(request_reason("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n") ==
        "line folding in the Transfer-Encoding header");
  CHECK(request_reason(kRequestLine + "Host: x\r\nConnection: keep-alive,\r\n\tclose\r\n\r\n") ==
        "line folding in the Connection header");
}

// README "What is rejected": a name that differs from Content-Length or Transfer-Encoding only in
// case or in the characters between the letters is refused; so are Host and
// Connection spelled so. The real names, in any case, are the real headers.
TEST_CASE("disguised framing names", "[rules]") {
  for (const char* name : {"Content_Length", "content.length", "CONTENT-_-LENGTH", "ContentLength", "Content~Length",
                           "Content-Len-gth", "C-o-n-t-e-n-t-L-e-n-g-t-h", "Content1Length"}) {
    INFO(name);
    CHECK(disguised_framing_name(name) == "Content-Length");
  }
  for (const char* name : {"Transfer---Encoding", "Transfer___Encoding", "TransferEncoding", "transfer_encoding",
                           "Transfer.Encoding", "Transfer-Enco'ding"}) {
    INFO(name);
    CHECK(disguised_framing_name(name) == "Transfer-Encoding");
  }
  CHECK(disguised_framing_name("H_ost") == "Host");
  CHECK(disguised_framing_name("Connec-tion") == "Connection");
  for (const char* name : {"Content-Length", "content-length", "TRANSFER-ENCODING", "Host", "connection",
                           // other letters, or something before the first or after the last letter
                           "X-Content-Length", "Content-Lengths", "Content-Lengt", "Transfer-Encodings",
                           "_Content-Length", "Content-Length_", "Content-Length2", "Content-Type", "Hosts", ""}) {
    INFO(name);
    CHECK(disguised_framing_name(name).empty());
  }
  const std::string post = "POST / HTTP/1.1\r\nHost: x\r\n";
  CHECK(request_reason(post + "Transfer---Encoding: chunked\r\n\r\n") ==
        "header name Transfer---Encoding imitates Transfer-Encoding");
  CHECK(request_reason(post + "Transfer___Encoding: chunked\r\n\r\n") ==
        "header name Transfer___Encoding imitates Transfer-Encoding");
  CHECK(request_reason(post + "TransferEncoding: chunked\r\n\r\n") ==
        "header name TransferEncoding imitates Transfer-Encoding");
  CHECK(response_problem("HTTP/1.1 200 OK\r\nTransfer---Encoding: chunked\r\nContent-Length: 0\r\n\r\n") ==
        "header name Transfer---Encoding imitates Transfer-Encoding");
  CHECK(response_problem("HTTP/1.1 200 OK\r\ncontent.length: 0\r\n\r\n") ==
        "header name content.length imitates Content-Length");
}

// Every control byte but HTAB; printable ASCII, SP and obs-text are fine.
TEST_CASE("control bytes", "[rules]") {
  for (int c = 0; c < 0x20; ++c) CHECK(has_control_byte(std::string(1, static_cast<char>(c))) == (c != '\t'));
  CHECK(has_control_byte("a\x7f"));
  CHECK(has_control_byte(std::string("value\0", 6)));
  CHECK_FALSE(has_control_byte("a b\tc ~\x80\xff"));
  CHECK_FALSE(has_control_byte(""));
}

// Transfer-Encoding: one final chunked; 501 for codings we lack, 400 for malformed lists.
TEST_CASE("Transfer-Encoding rules", "[rules]") {
  const std::string post = "POST / HTTP/1.1\r\nHost: x\r\n";
  Refusal twice = request_refusal(post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(twice.status == 400);
  CHECK(twice.reason == "chunked given more than once in Transfer-Encoding");
  Refusal gzip_chunked = request_refusal(post + "Transfer-Encoding: gzip, chunked\r\n\r\n");
  CHECK(gzip_chunked.status == 501);
  CHECK(request_refusal(post + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n").status == 501);
  CHECK(request_reason("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        "Transfer-Encoding in an HTTP/1.0 request");

  // Lists http-parser itself refuses (chunked not final): the fields are complete, so we can say why.
  for (auto [value, status] : std::initializer_list<std::pair<std::string, int>>{
           {"gzip", 501}, {"chunked, gzip", 400}, {"chunked, chunked", 400}, {",chunked", 400},
           {"", 400}, {"chunked;x=1, gzip", 400}, {"x y", 400}}) {
    INFO("Transfer-Encoding: " << value);
    Parsed p(post + "Transfer-Encoding: " + value + "\r\n\r\n");
    REQUIRE(p.parser.transfer_encoding_refused());
    CHECK(check_transfer_encoding(p.head()).status == status);
  }
}

// Backends' heads get the same checks; each problem is a reason for a 502.
TEST_CASE("response heads", "[rules]") {
  CHECK(response_problem("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: a\r\n b\r\n\r\n").empty());
  CHECK(response_problem("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").empty());
  CHECK(response_problem("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n") ==
        "transfer coding not implemented (only chunked is)");
  CHECK(response_problem("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        "chunked given more than once in Transfer-Encoding");
  CHECK(response_problem("HTTP/1.1 200 OK\r\nTransfer-Encoding : chunked\r\n\r\n") == "invalid header name");
  CHECK(response_problem("HTTP/1.1 200 OK\r\nContent_Length: 1\r\nContent-Length: 0\r\n\r\n") ==
        "header name Content_Length imitates Content-Length");
  CHECK(response_problem("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n\r\n") ==
        "line folding in the Transfer-Encoding header");
  CHECK(response_problem("HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n") == "control byte in the status line");
  CHECK(response_problem("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        "Transfer-Encoding in an HTTP/1.0 response");
}

// The authority of an absolute-form target is the request's host; otherwise the Host field.
TEST_CASE("request_host", "[rules]") {
  CHECK(request_host(Parsed("GET http://a.example:81/x HTTP/1.1\r\nHost: b\r\n\r\n").head()) == "a.example:81");
  CHECK(request_host(Parsed("GET http://a.example?q HTTP/1.1\r\nHost: b\r\n\r\n").head()) == "a.example");
  CHECK(request_host(Parsed("GET /x HTTP/1.1\r\nHost:  b:8 \r\n\r\n").head()) == "b:8");
  CHECK(request_host(Parsed("GET /x HTTP/1.0\r\n\r\n").head()).empty());
}

// Only POST, PUT and PATCH bodies may share a connection with later requests.
TEST_CASE("which request bodies are risky", "[rules]") {
  for (std::string method : {"POST", "PUT", "PATCH"}) CHECK(method_defines_body(method));
  for (std::string method : {"GET", "HEAD", "OPTIONS", "DELETE", "TRACE", "BREW", "post"}) {
    CHECK_FALSE(method_defines_body(method));
  }
  CHECK(body_framing_is_risky(Parsed("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n").head()));
  CHECK(body_framing_is_risky(Parsed("DELETE / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n").head()));
  CHECK(body_framing_is_risky(Parsed("OPTIONS * HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n").head()));
  CHECK_FALSE(body_framing_is_risky(Parsed("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").head()));
  CHECK_FALSE(body_framing_is_risky(Parsed("GET / HTTP/1.1\r\nHost: a\r\n\r\n").head()));
  CHECK_FALSE(body_framing_is_risky(Parsed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n").head()));
}

// An upstream connection is pooled only when every condition holds.
TEST_CASE("upstream reuse rule", "[rules]") {
  ExchangeEnd clean;
  clean.response_complete = true;
  clean.backend_keep_alive = true;
  CHECK(may_reuse_upstream(clean));
  ExchangeEnd risky = clean;
  risky.risky_request_body = true;
  CHECK_FALSE(may_reuse_upstream(risky));
  ExchangeEnd cut = clean;
  cut.response_complete = false;
  CHECK_FALSE(may_reuse_upstream(cut));
  ExchangeEnd closing = clean;
  closing.backend_keep_alive = false;
  CHECK_FALSE(may_reuse_upstream(closing));
  ExchangeEnd extra = clean;
  extra.bytes_left_over = true;
  CHECK_FALSE(may_reuse_upstream(extra));
  for (int status : {400, 408, 411, 413, 414, 431, 501, 505}) {
    ExchangeEnd refused = clean;
    refused.response_status = status;
    INFO(status);
    CHECK_FALSE(may_reuse_upstream(refused));
  }
  for (int status : {200, 204, 304, 404, 500, 503}) {
    ExchangeEnd ordinary = clean;
    ordinary.response_status = status;
    CHECK(may_reuse_upstream(ordinary));
  }
}
