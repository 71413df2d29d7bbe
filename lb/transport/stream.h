// Blocking byte streams over a TCP socket, with per-call timeouts.
//
// The proxy path reads and writes through this interface so that the same code
// serves plain TCP and (later) TLS connections.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lb {

using Millis = std::chrono::milliseconds;

// read() results besides a positive byte count.
constexpr ssize_t kEof = 0;
constexpr ssize_t kIoError = -1;
constexpr ssize_t kTimeout = -2;

class Stream {
 public:
  virtual ~Stream() = default;
  // Reads what is available (at least one byte), waiting up to `timeout`.
  // Returns bytes read, kEof, kIoError or kTimeout.
  virtual ssize_t read(char* buf, size_t len, Millis timeout) = 0;
  // Writes every byte of `iov` (modified in place), waiting up to `timeout` per write.
  virtual bool write_all(struct iovec* iov, int count, Millis timeout) = 0;
  virtual int fd() const = 0;
  // True when read() can return bytes without the socket becoming readable
  // (TLS keeps decrypted or read-ahead bytes inside OpenSSL): poll() on fd()
  // alone would miss them.
  virtual bool has_buffered_input() const { return false; }
  // For an idle keep-alive connection, without waiting: true when the peer
  // has neither closed it nor sent anything. A readable EOF means it closed
  // (for example after its keepalive_requests); unexpected bytes mean it is
  // out of sync. Either way it must not carry another request.
  virtual bool idle_and_open() = 0;

  bool write_all(const char* data, size_t len, Millis timeout);
};

// A plain TCP connection; owns and closes the socket.
class TcpStream : public Stream {
 public:
  explicit TcpStream(int fd);
  ~TcpStream() override;
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  ssize_t read(char* buf, size_t len, Millis timeout) override;
  bool write_all(struct iovec* iov, int count, Millis timeout) override;
  using Stream::write_all;  // the (data, len) convenience overload
  int fd() const override { return fd_; }
  bool idle_and_open() override;
  // Gives up ownership of the socket (for example to wrap it in TLS) and
  // returns it; the stream then closes nothing.
  int release();

 private:
  void set_timeout(int option, Millis timeout, Millis& current);
  int fd_;
  Millis read_timeout_{-1};   // SO_RCVTIMEO now set on fd_ (cached to skip syscalls)
  Millis write_timeout_{-1};  // SO_SNDTIMEO now set on fd_
};

// One address a host name resolved to (IPv4 or IPv6, with the port).
struct SocketAddress {
  struct sockaddr_storage storage {};
  socklen_t length = 0;
};
using ResolvedAddresses = std::vector<SocketAddress>;
bool operator==(const SocketAddress& a, const SocketAddress& b);

// getaddrinfo(): every address of host:port, or none with `error` set
// ("cannot resolve host: Name or service not known").
ResolvedAddresses resolve_host(const std::string& host, uint16_t port, std::string& error);
// "127.0.0.1", "2001:db8::1".
std::string address_text(const SocketAddress& address);

// Connects to the first of `addresses` that answers within `timeout`. Returns
// nullptr and fills `error` ("connection refused", "connect timeout", ...) on failure.
std::unique_ptr<Stream> connect_tcp(const ResolvedAddresses& addresses, Millis timeout, std::string& error,
                                    bool& timed_out);
// The same after resolving host:port.
std::unique_ptr<Stream> connect_tcp(const std::string& host, uint16_t port, Millis timeout,
                                    std::string& error, bool& timed_out);

// Peeks (never consumes) the first bytes of the blocking socket `fd` until
// they match or differ from `prefix`, waiting up to `timeout`: true on a match.
bool peeks_prefix(int fd, std::string_view prefix, Millis timeout);

// The peer's IP address as text ("127.0.0.1", "::1").
std::string peer_address(int fd);

}  // namespace lb
