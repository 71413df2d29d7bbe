// PROXY protocol v1 and v2 headers (lb/transport/proxy_protocol.h), byte by byte.
#include <catch2/catch.hpp>

#include <string>

#include "lb/transport/proxy_protocol.h"

using namespace lb;
using Status = ProxyHeader::Status;

namespace {

ProxyHeader parse(const std::string& bytes) { return parse_proxy_header(bytes.data(), bytes.size()); }

const std::string kSignature("\r\n\r\n\0\r\nQUIT\n", 12);

// A v2 header: command (0 LOCAL, 1 PROXY), family byte, then `addresses` and TLVs.
std::string v2(unsigned command, unsigned char family, const std::string& addresses) {
  std::string header = kSignature;
  header += static_cast<char>(0x20 | command);
  header += static_cast<char>(family);
  header += static_cast<char>(addresses.size() >> 8);
  header += static_cast<char>(addresses.size() & 0xff);
  return header + addresses;
}

}  // namespace

TEST_CASE("PROXY v1: TCP4, TCP6 and UNKNOWN", "[proxy-protocol]") {
  ProxyHeader tcp4 = parse("PROXY TCP4 203.0.113.7 10.0.0.5 51234 443\r\nGET / HTTP/1.1\r\n");
  CHECK(tcp4.status == Status::Ok);
  CHECK(tcp4.source == "203.0.113.7");
  CHECK(tcp4.length == 43);  // the request after it is not part of it
  ProxyHeader tcp6 = parse("PROXY TCP6 2001:db8::7 2001:db8::1 51234 443\r\n");
  CHECK(tcp6.status == Status::Ok);
  CHECK(tcp6.source == "2001:db8::7");
  ProxyHeader unknown = parse("PROXY UNKNOWN\r\n");
  CHECK(unknown.status == Status::Ok);
  CHECK(unknown.source.empty());  // keep the peer's address
}

TEST_CASE("PROXY v1: malformed headers are invalid, short ones incomplete", "[proxy-protocol]") {
  CHECK(parse("PROXY TCP4 203.0.113.7 10.0.0.5 51234").status == Status::Incomplete);
  CHECK(parse("PRO").status == Status::Incomplete);
  for (const char* bad : {"PROXY TCP4 203.0.113.7 10.0.0.5 51234 99999\r\n", "PROXY TCP4 2001:db8::7 10.0.0.5 1 2\r\n",
                          "PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n", "PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n",
                          "PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n", "PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n",
                          "PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n", "GET / HTTP/1.1\r\n"}) {
    INFO(bad);
    CHECK(parse(bad).status == Status::Invalid);
  }
  CHECK(parse("PROXY TCP4 " + std::string(120, '1')).status == Status::Invalid);  // no CRLF in 107 bytes
}

TEST_CASE("PROXY v2: PROXY over IPv4 and IPv6, LOCAL, TLVs skipped", "[proxy-protocol]") {
  const std::string ipv4("\xcb\x00\x71\x07" "\x0a\x00\x00\x05" "\xc8\x22" "\x01\xbb", 12);  // 203.0.113.7 -> 10.0.0.5
  ProxyHeader proxied = parse(v2(1, 0x11, ipv4) + "GET /");
  CHECK(proxied.status == Status::Ok);
  CHECK(proxied.source == "203.0.113.7");
  CHECK(proxied.length == 28);
  ProxyHeader with_tlv = parse(v2(1, 0x11, ipv4 + std::string("\x04\x00\x02xy", 5)));  // a NOOP TLV
  CHECK(with_tlv.status == Status::Ok);
  CHECK(with_tlv.length == 33);
  std::string ipv6(36, '\0');
  ipv6[0] = '\x20', ipv6[1] = '\x01', ipv6[2] = '\x0d', ipv6[3] = '\xb8', ipv6[15] = '\x07';
  ProxyHeader six = parse(v2(1, 0x21, ipv6));
  CHECK(six.status == Status::Ok);
  CHECK(six.source == "2001:db8::7");
  ProxyHeader local = parse(v2(0, 0x00, ""));
  CHECK(local.status == Status::Ok);
  CHECK(local.source.empty());
}

TEST_CASE("PROXY v2: bad version, command, family or length", "[proxy-protocol]") {
  const std::string ipv4(12, '\x01');
  CHECK(parse(v2(1, 0x11, ipv4).substr(0, 20)).status == Status::Incomplete);  // the rest is on its way
  CHECK(parse(kSignature.substr(0, 7)).status == Status::Incomplete);
  std::string version1 = v2(1, 0x11, ipv4);
  version1[12] = '\x11';
  CHECK(parse(version1).status == Status::Invalid);
  CHECK(parse(v2(2, 0x11, ipv4)).status == Status::Invalid);  // command 2
  CHECK(parse(v2(1, 0x11, ipv4.substr(0, 8))).status == Status::Invalid);  // IPv4 block too short
  CHECK(parse(v2(1, 0x51, ipv4)).status == Status::Invalid);  // family 5
}

TEST_CASE("the first bytes tell a PROXY header from HTTP", "[proxy-protocol]") {
  auto classify = [](const std::string& bytes) { return classify_proxy_prefix(bytes.data(), bytes.size()); };
  CHECK(classify("PROXY TCP4 ") == ProxyPrefix::Yes);
  CHECK(classify(kSignature) == ProxyPrefix::Yes);
  CHECK(classify("PRO") == ProxyPrefix::Maybe);
  CHECK(classify("\r\n\r\n") == ProxyPrefix::Maybe);
  CHECK(classify("POST / HTTP/1.1") == ProxyPrefix::No);
  CHECK(classify("GET / HTTP/1.1") == ProxyPrefix::No);
  CHECK(classify("\r\nGET") == ProxyPrefix::No);
}
