#include "lb/transport/proxy_protocol.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace lb {

namespace {

using Clock = std::chrono::steady_clock;

constexpr char kV2Signature[12] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'};
constexpr std::size_t kV1MaxLength = 107;  // "PROXY UNKNOWN ffff:...:ffff ... 65535 65535\r\n"
constexpr std::size_t kV2HeadLength = 16;
constexpr std::size_t kPeekBytes = 536;    // a v2 header with addresses and a few TLVs

ProxyHeader invalid(std::string problem) {
  ProxyHeader header;
  header.status = ProxyHeader::Status::Invalid;
  header.problem = std::move(problem);
  return header;
}

bool valid_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value <= 65535;
}

bool valid_address(std::string_view text, int family) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  char copy[INET6_ADDRSTRLEN] = {};
  std::memcpy(copy, text.data(), text.size());
  unsigned char bytes[16];
  return inet_pton(family, copy, bytes) == 1;
}

// "PROXY TCP4 SRC DST SPORT DPORT\r\n", "PROXY TCP6 ...", "PROXY UNKNOWN ...\r\n".
ProxyHeader parse_v1(std::string_view data) {
  const std::size_t end = data.find("\r\n");
  if (end == std::string_view::npos) {
    return data.size() >= kV1MaxLength ? invalid("v1 header without CRLF in 107 bytes") : ProxyHeader{};
  }
  if (end + 2 > kV1MaxLength) return invalid("v1 header longer than 107 bytes");
  std::string_view line = data.substr(6, end - 6);  // after "PROXY "
  std::string_view fields[6];
  std::size_t count = 0;
  while (!line.empty() && count < 6) {
    const std::size_t space = line.find(' ');
    fields[count++] = line.substr(0, space);
    line = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  }
  ProxyHeader header;
  header.length = end + 2;
  if (count >= 1 && fields[0] == "UNKNOWN") {
    header.status = ProxyHeader::Status::Ok;  // the balancer's own connection: keep the peer's address
    return header;
  }
  if (count != 5 || !line.empty()) return invalid("v1 header needs PROTOCOL SRC DST SPORT DPORT");
  const int family = fields[0] == "TCP4" ? AF_INET : fields[0] == "TCP6" ? AF_INET6 : 0;
  if (family == 0) return invalid("v1 protocol must be TCP4, TCP6 or UNKNOWN");
  if (!valid_address(fields[1], family) || !valid_address(fields[2], family)) return invalid("v1 bad address");
  if (!valid_port(fields[3]) || !valid_port(fields[4])) return invalid("v1 bad port");
  header.status = ProxyHeader::Status::Ok;
  header.source = std::string(fields[1]);
  return header;
}

ProxyHeader parse_v2(const unsigned char* data, std::size_t size) {
  if (size < kV2HeadLength) return {};
  const unsigned version = data[12] >> 4, command = data[12] & 0x0f;
  if (version != 2) return invalid("v2 version must be 2");
  if (command > 1) return invalid("v2 command must be LOCAL or PROXY");
  const std::size_t length = kV2HeadLength + ((static_cast<std::size_t>(data[14]) << 8) | data[15]);
  if (size < length) return {};
  ProxyHeader header;
  header.length = length;
  header.status = ProxyHeader::Status::Ok;
  if (command == 0) return header;  // LOCAL: health checks of the balancer itself
  const unsigned family = data[13] >> 4;
  const unsigned char* address = data + kV2HeadLength;
  char text[INET6_ADDRSTRLEN] = {};
  if (family == 1) {  // AF_INET: 4 + 4 + 2 + 2
    if (length < kV2HeadLength + 12) return invalid("v2 IPv4 address block too short");
    inet_ntop(AF_INET, address, text, sizeof text);
  } else if (family == 2) {  // AF_INET6: 16 + 16 + 2 + 2
    if (length < kV2HeadLength + 36) return invalid("v2 IPv6 address block too short");
    inet_ntop(AF_INET6, address, text, sizeof text);
  } else if (family == 0 || family == 3) {
    return header;  // UNSPEC or a unix socket: no client address to take
  } else {
    return invalid("v2 unknown address family");
  }
  header.source = text;
  return header;
}

// Waits for readable bytes until `deadline`; false on timeout or error.
bool wait_readable(int fd, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    struct pollfd pfd {
      fd, POLLIN, 0
    };
    int ready = ::poll(&pfd, 1, static_cast<int>(left));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
}

// Peeks what has arrived (at most `size` bytes) once something has; -1 on EOF,
// error or timeout. `more_than`: wait until more than that many bytes are there.
ssize_t peek(int fd, char* buffer, std::size_t size, ssize_t more_than, Clock::time_point deadline) {
  for (;;) {
    if (!wait_readable(fd, deadline)) return -1;
    ssize_t n = ::recv(fd, buffer, size, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return -1;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
    if (n > more_than) return n;
    if (n > 0 && static_cast<std::size_t>(n) == size) return n;
    // Not enough yet: the rest of the header is on its way. Poll says readable
    // while bytes wait, so sleep a little rather than spin.
    ::poll(nullptr, 0, 1);
  }
}

}  // namespace

ProxyPrefix classify_proxy_prefix(const char* data, std::size_t size) {
  auto against = [&](const char* signature, std::size_t length) {
    const std::size_t compared = std::min(size, length);
    if (std::memcmp(data, signature, compared) != 0) return ProxyPrefix::No;
    return compared == length ? ProxyPrefix::Yes : ProxyPrefix::Maybe;
  };
  if (size == 0) return ProxyPrefix::Maybe;
  const ProxyPrefix v1 = against("PROXY ", 6), v2 = against(kV2Signature, sizeof kV2Signature);
  if (v1 == ProxyPrefix::Yes || v2 == ProxyPrefix::Yes) return ProxyPrefix::Yes;
  return v1 == ProxyPrefix::Maybe || v2 == ProxyPrefix::Maybe ? ProxyPrefix::Maybe : ProxyPrefix::No;
}

ProxyHeader parse_proxy_header(const char* data, std::size_t size) {
  if (classify_proxy_prefix(data, size) == ProxyPrefix::No) return invalid("not a PROXY protocol header");
  if (size >= 6 && std::memcmp(data, "PROXY ", 6) == 0) return parse_v1(std::string_view(data, size));
  if (size >= sizeof kV2Signature && std::memcmp(data, kV2Signature, sizeof kV2Signature) == 0) {
    return parse_v2(reinterpret_cast<const unsigned char*>(data), size);
  }
  return {};  // a prefix of either: wait for more
}

ProxyHeader read_proxy_header(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buffer[kPeekBytes];
  ssize_t seen = 0;
  for (;;) {
    seen = peek(fd, buffer, sizeof buffer, seen, deadline);
    if (seen < 0) return {};
    ProxyHeader header = parse_proxy_header(buffer, static_cast<std::size_t>(seen));
    if (header.status == ProxyHeader::Status::Invalid) return header;
    if (header.status == ProxyHeader::Status::Ok) {
      // Consume exactly the header: the peeked bytes are there already.
      std::size_t taken = 0;
      while (taken < header.length) {
        ssize_t n = ::recv(fd, buffer, header.length - taken, 0);
        if (n <= 0 && errno != EINTR) return {};
        if (n > 0) taken += static_cast<std::size_t>(n);
      }
      return header;
    }
    if (static_cast<std::size_t>(seen) == sizeof buffer) return invalid("PROXY header larger than we read");
  }
}

bool peeks_proxy_header(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buffer[sizeof kV2Signature];
  ssize_t seen = 0;
  for (;;) {
    seen = peek(fd, buffer, sizeof buffer, seen, deadline);
    if (seen <= 0) return false;  // quiet or gone: the handshake will say so
    ProxyPrefix prefix = classify_proxy_prefix(buffer, static_cast<std::size_t>(seen));
    if (prefix != ProxyPrefix::Maybe) return prefix == ProxyPrefix::Yes;
  }
}

}  // namespace lb
