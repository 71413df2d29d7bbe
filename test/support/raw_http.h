// A tiny HTTP/1.1 client over raw sockets, for tests that must see the exact
// bytes a server sends (header spelling, duplicates, percent-escapes, framing)
// or send bytes no ordinary client would (malformed, pipelined, smuggling).
//
//   test_support::ScopedFd fd(test_support::connect_to(port));
//   test_support::send_all(fd.get(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
//   test_support::RawResponse res = test_support::read_response(fd.get());
//   CHECK(res.status == 200);
//   CHECK(res.headers_named("Set-Cookie").size() == 2);
//
// Every call is bounded by a timeout. Failures throw RawHttpError.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace test_support {

// Header fields in the order received, duplicates kept, bytes as sent
// (values without the spaces and tabs around them).
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct RawResponse {
  std::string version;  // "HTTP/1.1"
  int status = 0;       // 200
  std::string reason;   // "OK" (may be empty)
  HeaderList headers;
  std::string head;          // the exact bytes of the status line, header lines and blank line
  std::string body;          // the payload, with chunked framing removed
  bool chunked = false;      // body came with Transfer-Encoding: chunked
  HeaderList trailers;       // fields after the last chunk
  bool until_close = false;  // body was framed by the server closing the connection

  // The first value of header `name` (case-insensitive), or nullopt.
  std::optional<std::string> header(const std::string& name) const;
  // Every value of header `name` (case-insensitive), in order.
  std::vector<std::string> headers_named(const std::string& name) const;
};

class RawHttpError : public std::runtime_error {
 public:
  enum class Kind {
    kIo,         // connect/send/recv failed (refused, reset, ...)
    kTimeout,    // the deadline passed
    kClosed,     // the peer closed before sending any byte of a response
    kTruncated,  // the peer closed in the middle of a response
    kMalformed,  // bytes that are not a valid HTTP/1.x response
  };
  RawHttpError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// Owns a file descriptor and closes it when it goes out of scope.
class ScopedFd {
 public:
  explicit ScopedFd(int fd = -1) : fd_(fd) {}
  ~ScopedFd() { reset(); }
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept;
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  int release();
  void reset(int fd = -1);

 private:
  int fd_;
};

// Connects a TCP socket (close-on-exec, blocking) to 127.0.0.1:port, or to
// host:port (a numeric IPv4/IPv6 address). The caller owns the returned fd.
int connect_to(int port, std::chrono::milliseconds timeout = std::chrono::seconds(5));
int connect_to(const std::string& host, int port,
               std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Listens on 127.0.0.1 on a port the kernel picks (backlog 128), for
// in-process fake backends. Returns the socket (close-on-exec) and sets
// `port`; throws std::runtime_error naming `who` when it cannot.
int listen_loopback(int& port, const std::string& who);

// Writes all of `bytes` (never raises SIGPIPE).
void send_all(int fd, const std::string& bytes,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Reads exactly one response and not a byte more, so keep-alive and pipelined
// responses can be read one after another from the same fd. Set
// `head_request` when answering a HEAD (the response then has no body).
// A 1xx interim response is returned on its own; call again for the final one.
RawResponse read_response(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                          bool head_request = false);

// Reads until the peer closes the connection and returns what came; "" when it
// closed (or reset) without sending anything. Throws kTimeout if it stays open.
std::string read_until_close(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Connects to 127.0.0.1:port, sends `raw_request` as is, reads one response
// (a HEAD request is recognised by its first word) and closes.
RawResponse http_request(int port, const std::string& raw_request,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

// GET `target` from 127.0.0.1:port on a new connection, with extra `headers`.
RawResponse http_get(int port, const std::string& target = "/", const HeaderList& headers = {});

// `bytes` readable in a one-line message: CR, LF, tab, backslash and other
// unprintable bytes as escapes, at most `limit` bytes of input.
std::string escaped(const std::string& bytes, std::size_t limit = 400);

// Builds "METHOD TARGET HTTP/1.1" with `headers` in order, adding
// "Host: 127.0.0.1" unless given, and Content-Length when there is a body
// (or for POST/PUT/PATCH) unless Content-Length or Transfer-Encoding is given.
std::string build_request(const std::string& method, const std::string& target,
                          const HeaderList& headers = {}, const std::string& body = "");

}  // namespace test_support
