// The PROXY protocol (HAProxy's, v1 text and v2 binary): an L4 balancer in
// front of us (IPVS, a cloud NLB, HAProxy in TCP mode) starts each connection
// with the client's address, so that X-Forwarded-For, rate limits and logs
// name the client, not the balancer.
//
//   v1: "PROXY TCP4 203.0.113.7 10.0.0.5 51234 443\r\n"     (at most 107 bytes)
//   v2: 12-byte signature, version/command, family, length, addresses, TLVs
//
// Only peers in --proxy-protocol-from may send one, and they must; anything
// else closes the connection without a response (ProxyServer).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace lb {

struct ProxyHeader {
  enum class Status { Incomplete, Invalid, Ok };
  Status status = Status::Incomplete;
  std::size_t length = 0;  // bytes of the header, when Ok
  std::string source;      // the client's address; "" for LOCAL / UNKNOWN (keep the peer's)
  std::string problem;     // why it is Invalid
};

// Parses a header at the start of `data`. Incomplete: more bytes are needed to decide.
ProxyHeader parse_proxy_header(const char* data, std::size_t size);

// Whether `data` starts a v1 or v2 header: Yes, No, or Maybe (a prefix of a
// signature: more bytes decide). From an untrusted peer, Yes is refused.
enum class ProxyPrefix { No, Maybe, Yes };
ProxyPrefix classify_proxy_prefix(const char* data, std::size_t size);

// Waits up to `timeout` for the first bytes on the blocking socket `fd` and
// reads a header with them, consuming exactly its bytes (TLS or HTTP follows).
// Incomplete means the peer went quiet or closed first.
ProxyHeader read_proxy_header(int fd, std::chrono::milliseconds timeout);

// Before a TLS handshake with a peer that may not send a header: peeks (never
// consumes) the first bytes until they tell, within `timeout`; true for a header.
bool peeks_proxy_header(int fd, std::chrono::milliseconds timeout);

}  // namespace lb
