#include "lb/protection/trusted_proxies.h"

#include "common/http_text.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace lb {

namespace {

using Address = std::array<uint8_t, 16>;

bool is_v4_mapped(const Address& a) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a.data(), kPrefix, sizeof kPrefix) == 0;
}

// A bare IPv4 or IPv6 address (inet_pton's strict syntax); IPv4 comes back
// IPv4-mapped. `v4` says which syntax it was, for the prefix-length range.
bool parse_address(std::string_view text, Address& out, bool* v4 = nullptr) {
  // inet_pton wants a NUL-terminated string; a valid address is at most 45 chars.
  char buffer[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof buffer) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  in_addr ipv4{};
  if (inet_pton(AF_INET, buffer, &ipv4) == 1) {
    out = Address{};
    out[10] = out[11] = 0xff;
    std::memcpy(&out[12], &ipv4, 4);
    if (v4) *v4 = true;
    return true;
  }
  if (v4) *v4 = false;
  return inet_pton(AF_INET6, buffer, out.data()) == 1;
}

std::string canonical(const Address& a) {
  char buffer[INET6_ADDRSTRLEN];
  if (is_v4_mapped(a)) return inet_ntop(AF_INET, &a[12], buffer, sizeof buffer);
  return inet_ntop(AF_INET6, a.data(), buffer, sizeof buffer);
}

// Zeroes the bits after the first `prefix`.
Address masked(Address a, int prefix) {
  for (int i = 0; i < 16; ++i) {
    int keep = std::min(8, std::max(0, prefix - 8 * i));
    a[static_cast<std::size_t>(i)] &= static_cast<uint8_t>(0xff00 >> keep);
  }
  return a;
}

[[noreturn]] void reject(const char* what, const std::string& entry, const char* why) {
  std::string shown;
  for (char c : entry) shown += (static_cast<unsigned char>(c) < 0x20 ? '?' : c);  // keep the message one line
  throw std::invalid_argument(std::string("invalid ") + what + " \"" + shown + "\": " + why);
}

}  // namespace

TrustedProxies TrustedProxies::parse(const std::vector<std::string>& cidrs, const char* what) {
  TrustedProxies result;
  for (const std::string& entry : cidrs) {
    std::string_view text = common::trim_ows(entry);
    auto slash = text.find('/');
    Network network{};
    bool v4 = false;
    if (!parse_address(text.substr(0, slash), network.address, &v4)) reject(what, entry, "not an IP address or CIDR");
    const int bits = v4 ? 32 : 128;
    network.prefix = bits;
    if (slash != std::string_view::npos) {
      std::string_view digits = text.substr(slash + 1);
      if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string_view::npos) {
        reject(what, entry, v4 ? "prefix length must be 0-32" : "prefix length must be 0-128");
      }
      network.prefix = std::stoi(std::string(digits));
      if (network.prefix > bits) reject(what, entry, v4 ? "prefix length must be 0-32" : "prefix length must be 0-128");
    }
    if (v4) network.prefix += 96;  // the IPv4-mapped prefix ::ffff:0:0/96
    network.address = masked(network.address, network.prefix);
    network.text = std::string(text);
    result.networks_.push_back(network);
  }
  return result;
}

bool TrustedProxies::contains(const std::string& ip) const {
  Address address;
  return parse_address(common::trim_ows(ip), address) && covers(address);
}

bool TrustedProxies::empty() const { return networks_.empty(); }

std::string TrustedProxies::covering(std::string_view ip) const {
  Address address;
  if (!parse_address(common::trim_ows(ip), address)) return "";
  for (const Network& network : networks_) {
    if (masked(address, network.prefix) == network.address) return network.text;
  }
  return "";
}

bool TrustedProxies::covers(const Address& address) const {
  for (const Network& network : networks_) {
    if (masked(address, network.prefix) == network.address) return true;
  }
  return false;
}

std::string client_address(const std::string& peer_ip, std::string_view x_forwarded_for,
                           const TrustedProxies& trusted) {
  Address address;
  if (!parse_address(common::trim_ows(peer_ip), address)) return peer_ip;
  if (!trusted.covers(address)) return canonical(address);
  std::string last_trusted = canonical(address);
  std::string_view rest = x_forwarded_for;
  while (!rest.empty()) {
    auto comma = rest.rfind(',');
    std::string_view entry = common::trim_ows(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
    if (entry.empty()) continue;
    if (!parse_address(entry, address)) return last_trusted;  // garbage: believe nothing further left
    if (!trusted.covers(address)) return canonical(address);
    last_trusted = canonical(address);
  }
  return last_trusted;
}

}  // namespace lb
