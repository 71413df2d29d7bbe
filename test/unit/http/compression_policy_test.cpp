// When a response is compressed and with what: Accept-Encoding with
// q-values (lb/http/content_coding.h) and every case that passes untouched
// (lb/http/compression_policy.h).
#include <catch2/catch.hpp>

#include <string>

#include "lb/http/compression_policy.h"
#include "lb/http/http_message_parser.h"

using namespace lb;

namespace {

struct Parsed {
  MessageParser parser;
  Parsed(http_parser_type type, const std::string& bytes) : parser(type, 8192) {
    parser.feed(bytes.data(), bytes.size());
    REQUIRE(parser.phase() != MessageParser::Phase::Error);
    REQUIRE(parser.phase() != MessageParser::Phase::Head);
  }
  const MessageHead& head() const { return parser.head(); }
};

// The coding for a GET with `request_fields` answered by a 200 with `response_fields`.
std::string coding_for(const std::string& request_fields, const std::string& response_fields,
                       const std::string& method = "GET", int status = 200, const std::string& version = "1.1") {
  Parsed request(HTTP_REQUEST, method + " / HTTP/" + version + "\r\nHost: a\r\n" + request_fields + "\r\n");
  Parsed response(HTTP_RESPONSE, "HTTP/1.1 " + std::to_string(status) + " X\r\n" + response_fields + "\r\n");
  return std::string(coding_name(compression_for(request.head(), response.head(), 1024)));
}

const std::string kGzipBrZstd = "Accept-Encoding: gzip, deflate, br, zstd\r\n";
const std::string kJson = "Content-Type: application/json\r\nContent-Length: 5000\r\n";

}  // namespace

// q-values decide; q=0 refuses; "*" stands for the codings not named; ties
// go to zstd, then br, then gzip; nothing acceptable means identity.
TEST_CASE("Accept-Encoding: q-values, *, ties", "[compression]") {
  const std::pair<const char*, const char*> cases[] = {
      {"", "identity"},
      {"gzip", "gzip"},
      {"x-gzip", "gzip"},
      {"GZIP", "gzip"},
      {"br", "br"},
      {"zstd", "zstd"},
      {"gzip, deflate, br", "br"},           // a tie: br before gzip
      {"gzip, deflate, br, zstd", "zstd"},   // curl --compressed, browsers: zstd first
      {"zstd;q=0.5, br;q=0.8, gzip", "gzip"},
      {"zstd;q=0.5, br;q=0.8", "br"},
      {"br;q=0.8, gzip;q=0.800", "br"},      // equal q written two ways
      {"gzip;q=0", "identity"},
      {"gzip;q=0.000, br;q=0", "identity"},
      {"*", "zstd"},
      {"*;q=0", "identity"},
      {"*;q=0.1, gzip;q=0.5", "gzip"},
      {"*, zstd;q=0", "br"},                  // * names all but zstd
      {"identity", "identity"},
      {"deflate, compress", "identity"},
      {"gzip;q=1.5", "identity"},             // an unreadable q refuses
      {"gzip;q=abc, br", "br"},
      {"gzip ; q=0.9 , br ; q=0.3", "gzip"},
      {" , ,gzip", "gzip"},
      {"gzip;level=1;q=0.7, br;q=0.6", "gzip"},
  };
  for (const auto& [value, expected] : cases) {
    INFO(value);
    CHECK(coding_name(choose_coding(std::string_view(value))) == expected);
  }
}

// Several Accept-Encoding fields count as one list.
TEST_CASE("Accept-Encoding: several fields", "[compression]") {
  CHECK(coding_for("Accept-Encoding: gzip;q=0.5\r\nAccept-Encoding: br\r\n", kJson) == "br");
  CHECK(coding_for("", kJson) == "identity");
}

// The textual types are compressed, others and a missing type are not.
TEST_CASE("compressible types", "[compression]") {
  for (const char* type : {"text/html", "text/plain; charset=utf-8", "TEXT/CSS", "application/json",
                           "application/problem+json", "application/javascript", "application/xml",
                           "application/atom+xml", "image/svg+xml", "application/wasm", "text/event-stream"}) {
    INFO(type);
    CHECK(is_compressible_type(type));
  }
  for (const char* type : {"image/png", "application/octet-stream", "video/mp4", "application/zip", "text/", "+json",
                           "application/jsonx", ""}) {
    INFO(type);
    CHECK_FALSE(is_compressible_type(type));
  }
}

// Compressed when everything allows it; each rule alone keeps the body as it is.
TEST_CASE("compression_for: what passes untouched", "[compression]") {
  CHECK(coding_for(kGzipBrZstd, kJson) == "zstd");
  CHECK(coding_for(kGzipBrZstd, kJson, "POST") == "zstd");
  CHECK(coding_for(kGzipBrZstd, "Content-Type: text/html\r\n") == "zstd");  // unknown length counts as large
  CHECK(coding_for(kGzipBrZstd, "Content-Type: text/html\r\nContent-Length: 1024\r\n") == "zstd");  // at the minimum

  CHECK(coding_for(kGzipBrZstd, kJson, "HEAD") == "identity");
  CHECK(coding_for(kGzipBrZstd + "Range: bytes=0-99\r\n", kJson) == "identity");
  CHECK(coding_for(kGzipBrZstd, kJson, "GET", 206) == "identity");
  CHECK(coding_for(kGzipBrZstd, "Content-Type: text/html\r\n", "GET", 204) == "identity");
  CHECK(coding_for(kGzipBrZstd, "Content-Type: text/html\r\n", "GET", 304) == "identity");
  CHECK(coding_for(kGzipBrZstd, kJson + "Content-Encoding: gzip\r\n") == "identity");
  CHECK(coding_for(kGzipBrZstd, kJson + "Content-Encoding: identity\r\n") == "identity");
  CHECK(coding_for(kGzipBrZstd, "Content-Type: image/png\r\nContent-Length: 5000\r\n") == "identity");
  CHECK(coding_for(kGzipBrZstd, "Content-Length: 5000\r\n") == "identity");  // no type: not ours to guess
  CHECK(coding_for(kGzipBrZstd, "Content-Type: text/html\r\nContent-Length: 1023\r\n") == "identity");
  CHECK(coding_for(kGzipBrZstd + "Cache-Control: no-transform\r\n", kJson) == "identity");
  CHECK(coding_for(kGzipBrZstd, kJson + "Cache-Control: public, No-Transform\r\n") == "identity");
  CHECK(coding_for(kGzipBrZstd, kJson + "Cache-Control: max-age=60\r\nCache-Control: no-transform\r\n") == "identity");
  CHECK(coding_for(kGzipBrZstd, kJson, "GET", 200, "1.0") == "identity");
  CHECK(coding_for("Accept-Encoding: deflate\r\n", kJson) == "identity");
}
