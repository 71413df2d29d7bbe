// The pure parts of lb/transport/dns_lookup.h: --resolver values and the
// addresses in a DNS reply's additional section.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "lb/transport/dns_lookup.h"

using namespace lb;

namespace {

std::string reason(const std::string& text) {
  try {
    parse_dns_server(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

void put16(std::vector<unsigned char>& out, int value) {
  out.push_back(static_cast<unsigned char>(value >> 8));
  out.push_back(static_cast<unsigned char>(value & 0xff));
}

void put_name(std::vector<unsigned char>& out, const std::string& dotted) {
  size_t start = 0;
  while (start < dotted.size()) {
    size_t dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    out.push_back(static_cast<unsigned char>(dot - start));
    out.insert(out.end(), dotted.begin() + start, dotted.begin() + dot);
    start = dot + 1;
  }
  out.push_back(0);
}

void put_record(std::vector<unsigned char>& out, const std::string& name, int type,
                const std::vector<unsigned char>& data) {
  put_name(out, name);
  put16(out, type);
  put16(out, 1);  // IN
  put16(out, 0);
  put16(out, 60);  // TTL
  put16(out, static_cast<int>(data.size()));
  out.insert(out.end(), data.begin(), data.end());
}

}  // namespace

TEST_CASE("resolver values: an IP address and an optional port", "[dns]") {
  CHECK(parse_dns_server("127.0.0.1").text() == "127.0.0.1:53");
  CHECK(parse_dns_server("127.0.0.1:5353").port == 5353);
  CHECK(parse_dns_server("::1").text() == "[::1]:53");
  CHECK(parse_dns_server("[::1]:5353").text() == "[::1]:5353");
  CHECK_THAT(reason("dns.example:53"), Catch::Contains("expected an IP address"));
  CHECK_THAT(reason("127.0.0.1:"), Catch::Contains("empty port"));
  CHECK_THAT(reason("127.0.0.1:70000"), Catch::Contains("port must be 1-65535"));
  CHECK_THAT(reason("127.0.0.1:x"), Catch::Contains("port must be 1-65535"));
  CHECK_THAT(reason("[::1"), Catch::Contains("unclosed"));
  CHECK_THAT(reason(""), Catch::Contains("expected an IP address"));
}

TEST_CASE("A and AAAA records of the additional section are read from a reply", "[dns]") {
  std::vector<unsigned char> message;
  put16(message, 1);       // id
  put16(message, 0x8180);  // response, no error
  put16(message, 1);       // questions
  put16(message, 1);       // answers
  put16(message, 0);       // authorities
  put16(message, 3);       // additionals
  put_name(message, "_http._tcp.web.test");
  put16(message, 33);
  put16(message, 1);
  std::vector<unsigned char> srv{0, 0, 0, 10, 0x1f, 0x41};
  put_name(srv, "web1.test");
  put_record(message, "_http._tcp.web.test", 33, srv);
  put_record(message, "WEB1.test", 1, {127, 0, 0, 1});
  put_record(message, "web1.test", 28, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  put_record(message, "web2.test", 16, {3, 'a', 'b', 'c'});  // TXT: not an address
  auto found = additional_addresses(message.data(), static_cast<int>(message.size()));
  REQUIRE(found.size() == 1);
  CHECK(found["web1.test"] == std::vector<std::string>{"127.0.0.1", "::1"});
  SECTION("a truncated reply gives what came before the damage") {
    auto cut = additional_addresses(message.data(), static_cast<int>(message.size()) - 35);  // into the AAAA record
    CHECK(cut["web1.test"] == std::vector<std::string>{"127.0.0.1"});
    CHECK(additional_addresses(message.data(), 5).empty());
  }
}
