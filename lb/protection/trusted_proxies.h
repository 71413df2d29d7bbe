// Which address a request comes from, for rate limiting behind other proxies.
//
// X-Forwarded-For is written by whoever sends the request, so only hops added
// by proxies we trust are believed: the walk goes from the right (the hop our
// peer appended last) and stops at the first address no trusted proxy vouches for.
//
// Addresses are compared as 16-byte IPv6 values, IPv4 as IPv4-mapped
// (::ffff:a.b.c.d), so "10.0.0.0/8" also matches "::ffff:10.1.2.3" as a
// dual-stack socket reports it. Entries must be bare addresses: "1.2.3.4:80"
// and "[::1]" are malformed (no port stripping: X-Forwarded-For carries none).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lb {

class TrustedProxies {
 public:
  // Each entry: an IPv4 or IPv6 CIDR ("10.0.0.0/8", "::1/128") or a bare address;
  // spaces around it are ignored, host bits below the prefix too. Throws
  // std::invalid_argument with a one-line message naming the bad entry
  // (`what` names the list in it: "invalid trusted proxy \"x\": ...").
  static TrustedProxies parse(const std::vector<std::string>& cidrs, const char* what = "trusted proxy");
  // The entry (as given, trimmed) that covers `ip`, or "" when none does or ip is unparsable.
  std::string covering(std::string_view ip) const;

  // True when some entry covers `ip` (spaces around it ignored); false for an unparsable ip.
  bool contains(const std::string& ip) const;
  bool empty() const;

 private:
  using Address = std::array<uint8_t, 16>;  // IPv6 bytes, IPv4 as IPv4-mapped
  bool covers(const Address& address) const;
  friend std::string client_address(const std::string&, std::string_view, const TrustedProxies&);

  struct Network {
    Address address;  // host bits already cleared
    int prefix;       // 0-128, in IPv6 terms (IPv4 prefix + 96)
    std::string text; // the entry as given, trimmed: what a refusal names
  };
  std::vector<Network> networks_;
};

// The client's address: `peer_ip` unless the peer is a trusted proxy, in which case walk
// `x_forwarded_for` (comma-separated, all X-Forwarded-For values joined with ",") from right to left,
// skipping trusted addresses; the first untrusted one is the client. Malformed entries stop the walk
// (return the last trusted hop seen). If all are trusted, the leftmost.
//
// Spaces and tabs around entries are trimmed, empty entries skipped (RFC 9110
// lists allow them). The result is canonical, so one client is one rate-limit
// key: IPv4-mapped IPv6 as plain IPv4, IPv6 compressed lower-case
// ("2001:DB8:0::1" -> "2001:db8::1"). An unparsable peer_ip is returned as given.
std::string client_address(const std::string& peer_ip, std::string_view x_forwarded_for,
                           const TrustedProxies& trusted);

}  // namespace lb
