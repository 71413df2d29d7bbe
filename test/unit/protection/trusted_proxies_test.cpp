// Trusted proxy CIDRs and the X-Forwarded-For walk that picks the rate-limit key.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "lb/protection/trusted_proxies.h"

using namespace lb;

namespace {

// The exception message parse() gives for one bad entry.
std::string parse_error(const std::string& entry) {
  try {
    TrustedProxies::parse({"127.0.0.1", entry});
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

// IPv4 CIDRs match exactly their range, boundaries included.
TEST_CASE("TrustedProxies IPv4 ranges", "[proxies]") {
  auto trusted = TrustedProxies::parse({"10.0.0.0/8", "192.168.1.0/24", "203.0.113.9"});
  CHECK_FALSE(trusted.empty());
  CHECK(trusted.contains("10.0.0.0"));
  CHECK(trusted.contains("10.255.255.255"));
  CHECK_FALSE(trusted.contains("11.0.0.0"));
  CHECK_FALSE(trusted.contains("9.255.255.255"));
  CHECK(trusted.contains("192.168.1.255"));
  CHECK_FALSE(trusted.contains("192.168.2.0"));
  CHECK(trusted.contains("203.0.113.9"));  // a bare address is a /32
  CHECK_FALSE(trusted.contains("203.0.113.10"));
  CHECK_FALSE(trusted.contains("::1"));
}

// IPv6 CIDRs and bare addresses match, in any spelling of the address.
TEST_CASE("TrustedProxies IPv6 ranges", "[proxies]") {
  auto trusted = TrustedProxies::parse({"::1", "2001:db8::/32", "fd00:1:2:3::/63"});
  CHECK(trusted.contains("::1"));
  CHECK(trusted.contains("0:0:0:0:0:0:0:1"));
  CHECK_FALSE(trusted.contains("::2"));
  CHECK(trusted.contains("2001:DB8:ffff::1"));
  CHECK_FALSE(trusted.contains("2001:db9::1"));
  CHECK(trusted.contains("fd00:1:2:3:ffff::"));
  CHECK(trusted.contains("fd00:1:2:2::1"));  // /63: the last bit of the 4th group is free
  CHECK_FALSE(trusted.contains("fd00:1:2:4::1"));
  CHECK_FALSE(trusted.contains("127.0.0.1"));
}

// IPv4 and its IPv4-mapped IPv6 spelling are the same address, both as entry and as candidate.
TEST_CASE("TrustedProxies IPv4-mapped IPv6", "[proxies]") {
  auto v4 = TrustedProxies::parse({"10.0.0.0/8"});
  CHECK(v4.contains("::ffff:10.1.2.3"));
  CHECK_FALSE(v4.contains("::ffff:11.1.2.3"));
  auto mapped = TrustedProxies::parse({"::ffff:192.0.2.0/120"});
  CHECK(mapped.contains("192.0.2.200"));
  CHECK_FALSE(mapped.contains("192.0.3.1"));
  // 0.0.0.0/0 is every IPv4 address, but no native IPv6 one; ::/0 is everything.
  auto all_v4 = TrustedProxies::parse({"0.0.0.0/0"});
  CHECK(all_v4.contains("8.8.8.8"));
  CHECK_FALSE(all_v4.contains("2001:db8::1"));
  auto everything = TrustedProxies::parse({"::/0"});
  CHECK(everything.contains("8.8.8.8"));
  CHECK(everything.contains("2001:db8::1"));
}

// Spaces around entries are ignored and host bits below the prefix do not matter.
TEST_CASE("TrustedProxies lenient entry forms", "[proxies]") {
  auto trusted = TrustedProxies::parse({"  10.1.2.3/8 ", "\t::1\t"});
  CHECK(trusted.contains("10.9.9.9"));
  CHECK(trusted.contains("::1"));
  CHECK(trusted.contains(" 10.0.0.1 "));
  CHECK(TrustedProxies::parse({}).empty());
}

// Unparsable candidates are never trusted.
TEST_CASE("TrustedProxies rejects unparsable candidates", "[proxies]") {
  auto trusted = TrustedProxies::parse({"0.0.0.0/0", "::/0"});
  CHECK_FALSE(trusted.contains(""));
  CHECK_FALSE(trusted.contains("unknown"));
  CHECK_FALSE(trusted.contains("10.0.0.1:8080"));
  CHECK_FALSE(trusted.contains("[::1]"));
  CHECK_FALSE(trusted.contains("10.0.0"));
  CHECK_FALSE(trusted.contains("010.0.0.1"));
  CHECK_FALSE(trusted.contains("fe80::1%eth0"));
  CHECK_FALSE(trusted.contains(std::string(100, '1')));
}

// A bad entry throws a one-line message that names it.
TEST_CASE("TrustedProxies parse errors", "[proxies]") {
  CHECK(parse_error("10.0.0.0/33") == "invalid trusted proxy \"10.0.0.0/33\": prefix length must be 0-32");
  CHECK(parse_error("::/129") == "invalid trusted proxy \"::/129\": prefix length must be 0-128");
  CHECK(parse_error("10.0.0.0/") == "invalid trusted proxy \"10.0.0.0/\": prefix length must be 0-32");
  CHECK(parse_error("10.0.0.0/-1") == "invalid trusted proxy \"10.0.0.0/-1\": prefix length must be 0-32");
  CHECK(parse_error("10.0.0.0/8/8") == "invalid trusted proxy \"10.0.0.0/8/8\": prefix length must be 0-32");
  CHECK(parse_error("10.0.0.0/0008") == "invalid trusted proxy \"10.0.0.0/0008\": prefix length must be 0-32");
  CHECK(parse_error("10.0.0") == "invalid trusted proxy \"10.0.0\": not an IP address or CIDR");
  CHECK(parse_error("localhost") == "invalid trusted proxy \"localhost\": not an IP address or CIDR");
  CHECK(parse_error("") == "invalid trusted proxy \"\": not an IP address or CIDR");
  CHECK(parse_error("/8") == "invalid trusted proxy \"/8\": not an IP address or CIDR");
  CHECK(parse_error("10.0.0.1\n/8") == "invalid trusted proxy \"10.0.0.1?/8\": not an IP address or CIDR");
}

// Without a trusted peer, X-Forwarded-For is ignored: anyone can write it.
TEST_CASE("client_address ignores XFF from untrusted peers", "[proxies]") {
  auto trusted = TrustedProxies::parse({"10.0.0.0/8"});
  CHECK(client_address("198.51.100.7", "1.2.3.4", trusted) == "198.51.100.7");
  CHECK(client_address("198.51.100.7", "1.2.3.4", TrustedProxies::parse({})) == "198.51.100.7");
  CHECK(client_address("::ffff:198.51.100.7", "", trusted) == "198.51.100.7");
  CHECK(client_address("not-an-ip", "1.2.3.4", trusted) == "not-an-ip");
}

// Behind trusted proxies, the rightmost untrusted hop is the client; hops left of it may be forged.
TEST_CASE("client_address walks XFF right to left", "[proxies]") {
  auto trusted = TrustedProxies::parse({"10.0.0.0/8", "::1"});
  CHECK(client_address("10.0.0.1", "203.0.113.7", trusted) == "203.0.113.7");
  CHECK(client_address("10.0.0.1", "6.6.6.6, 203.0.113.7, 10.0.0.2", trusted) == "203.0.113.7");
  CHECK(client_address("10.0.0.1", "6.6.6.6,203.0.113.7", trusted) == "203.0.113.7");
  CHECK(client_address("::1", "2001:DB8:0:0::1", trusted) == "2001:db8::1");
  CHECK(client_address("::ffff:10.0.0.1", "::ffff:203.0.113.7", trusted) == "203.0.113.7");
}

// When every hop is trusted the leftmost is the client; with no hops at all, the peer.
TEST_CASE("client_address with only trusted hops", "[proxies]") {
  auto trusted = TrustedProxies::parse({"10.0.0.0/8"});
  CHECK(client_address("10.0.0.1", "10.0.0.5, 10.0.0.6", trusted) == "10.0.0.5");
  CHECK(client_address("10.0.0.1", "", trusted) == "10.0.0.1");
  CHECK(client_address("10.0.0.1", " , ,", trusted) == "10.0.0.1");
}

// A malformed hop stops the walk at the last trusted hop, which is then the client.
TEST_CASE("client_address stops at malformed hops", "[proxies]") {
  auto trusted = TrustedProxies::parse({"10.0.0.0/8"});
  CHECK(client_address("10.0.0.1", "203.0.113.7, unknown, 10.0.0.2", trusted) == "10.0.0.2");
  CHECK(client_address("10.0.0.1", "203.0.113.7, garbage", trusted) == "10.0.0.1");
  CHECK(client_address("10.0.0.1", "203.0.113.7:4711", trusted) == "10.0.0.1");  // no port stripping
  CHECK(client_address("10.0.0.1", "[2001:db8::1]", trusted) == "10.0.0.1");
}

// Spaces, tabs and empty list elements (several XFF headers joined with ",") are tolerated.
TEST_CASE("client_address trims and skips empty elements", "[proxies]") {
  auto trusted = TrustedProxies::parse({"10.0.0.0/8"});
  CHECK(client_address("10.0.0.1", "\t203.0.113.7 ,, 10.0.0.3 ,", trusted) == "203.0.113.7");
  CHECK(client_address("10.0.0.1", "198.51.100.1,203.0.113.7,10.0.0.3", trusted) == "203.0.113.7");
}
