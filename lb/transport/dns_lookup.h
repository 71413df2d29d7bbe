// DNS lookups with c-ares against chosen servers (README "Backends from DNS
// SRV"): SRV records for discovery, A/AAAA for backend host names. Each call
// runs its own c-ares channel and blocks until answered or `timeout` passes,
// so callers are background threads (discovery, health checks).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lb/transport/stream.h"

namespace lb {

// One --resolver: an IP address and a port.
struct DnsServer {
  std::string address;  // "127.0.0.1" or "::1" (no brackets)
  uint16_t port = 53;
  std::string text() const;  // "127.0.0.1:53", "[::1]:53"
};

// "HOST[:PORT]": an IPv4 or IPv6 address ("[::1]:5353", "::1"), port 53 when
// not given. Throws std::invalid_argument with a one-line reason.
DnsServer parse_dns_server(const std::string& text);

// One SRV record as the server sent it; `target` lowercase, without the
// trailing dot ("" for the root, "." in the zone file).
struct SrvRecord {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;
};

struct SrvAnswer {
  std::vector<SrvRecord> records;
  // The A/AAAA records of the reply's additional section: host name
  // (lowercase, no trailing dot) -> addresses as text.
  std::map<std::string, std::vector<std::string>> additional;
};

// The SRV records of `name`. False with `error` set ("timeout", "no such
// name", "server failure", "no SRV records", ...). No servers: the system's
// (c-ares reads /etc/resolv.conf).
bool lookup_srv(const std::string& name, const std::vector<DnsServer>& servers, Millis timeout, SrvAnswer& answer,
                std::string& error);

// Every A and AAAA address of `host` (an IP literal is returned as is), with
// `port`; none, with `error` set, on failure.
ResolvedAddresses lookup_addresses(const std::string& host, uint16_t port, const std::vector<DnsServer>& servers,
                                   Millis timeout, std::string& error);

// True for a lookup `error` in which DNS answered that the name has no
// address ("no such name", "no records"), rather than not answering.
bool name_has_no_address(const std::string& error);

// The additional section's A/AAAA records of a DNS reply (pure; a truncated
// or malformed message gives what was read before the damage).
std::map<std::string, std::vector<std::string>> additional_addresses(const unsigned char* message, int length);

}  // namespace lb
