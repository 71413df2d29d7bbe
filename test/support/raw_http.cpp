#include "test/support/raw_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace test_support {

namespace {

using Clock = std::chrono::steady_clock;
using Kind = RawHttpError::Kind;

constexpr std::size_t kMaxLine = 64 * 1024;
constexpr std::size_t kMaxHead = 1024 * 1024;

bool iequals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string trim(const std::string& s) {
  std::size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  std::size_t end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Waits until `fd` is ready for `events`; throws kTimeout at the deadline.
void wait_for(int fd, short events, Clock::time_point deadline, const char* what) {
  while (true) {
    pollfd p = {fd, events, 0};
    int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return;
    if (rc == 0) throw RawHttpError(Kind::kTimeout, std::string("timed out ") + what);
    if (errno != EINTR) throw RawHttpError(Kind::kIo, std::string("poll: ") + std::strerror(errno));
  }
}

// Reads from a socket without ever consuming bytes past what it was asked
// for: lines are found with MSG_PEEK, so whatever follows one response stays
// on the socket for the next read_response().
class Reader {
 public:
  Reader(int fd, Clock::time_point deadline) : fd_(fd), deadline_(deadline) {}

  // Receives up to `length` bytes (`flags` may be MSG_PEEK); 0 at end of stream.
  // A reset counts as end of stream: tests care whether a response came, not how
  // the connection ended.
  std::size_t receive(char* data, std::size_t length, int flags, const char* what) {
    while (true) {
      wait_for(fd_, POLLIN, deadline_, what);
      ssize_t n = ::recv(fd_, data, length, flags | MSG_DONTWAIT);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == ECONNRESET) return 0;
      if (errno != EINTR && errno != EAGAIN) {
        throw RawHttpError(Kind::kIo, std::string("recv: ") + std::strerror(errno));
      }
    }
  }

  // One line through its '\n', appended raw to `raw`; returned without CRLF.
  // nullopt when the stream ends before the line's first byte.
  std::optional<std::string> read_line(std::string* raw, const char* what) {
    std::string line;
    char buffer[4096];
    while (true) {
      std::size_t n = receive(buffer, sizeof buffer, MSG_PEEK, what);
      if (n == 0) {
        if (line.empty()) return std::nullopt;
        throw RawHttpError(Kind::kTruncated, std::string("connection closed ") + what);
      }
      const void* newline = std::memchr(buffer, '\n', n);
      std::size_t take =
          newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - buffer) + 1 : n;
      read_exact(take, &line, what);  // consumes what the peek saw, nothing more
      if (newline) break;
      if (line.size() > kMaxLine) throw RawHttpError(Kind::kMalformed, "line too long");
    }
    raw->append(line);
    line.pop_back();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }

  void read_exact(std::size_t length, std::string* out, const char* what) {
    char buffer[65536];
    while (length > 0) {
      std::size_t n = receive(buffer, std::min(length, sizeof buffer), 0, what);
      if (n == 0) throw RawHttpError(Kind::kTruncated, std::string("connection closed ") + what);
      out->append(buffer, n);
      length -= n;
    }
  }

  void read_to_end(std::string* out, const char* what) {
    char buffer[65536];
    while (std::size_t n = receive(buffer, sizeof buffer, 0, what)) out->append(buffer, n);
  }

 private:
  int fd_;
  Clock::time_point deadline_;
};

std::pair<std::string, std::string> parse_field(const std::string& line) {
  std::size_t colon = line.find(':');
  if (colon == std::string::npos || colon == 0) {
    throw RawHttpError(Kind::kMalformed, "bad header line: " + line);
  }
  return {line.substr(0, colon), trim(line.substr(colon + 1))};
}

void parse_status_line(const std::string& line, RawResponse* res) {
  std::size_t space = line.find(' ');
  bool ok = line.compare(0, 5, "HTTP/") == 0 && space != std::string::npos &&
            line.size() >= space + 4;
  for (std::size_t i = 1; ok && i <= 3; ++i) ok = std::isdigit(static_cast<unsigned char>(line[space + i]));
  ok = ok && (line.size() == space + 4 || line[space + 4] == ' ');
  if (!ok) throw RawHttpError(Kind::kMalformed, "bad status line: " + line);
  res->version = line.substr(0, space);
  res->status = std::stoi(line.substr(space + 1, 3));
  res->reason = line.size() > space + 5 ? line.substr(space + 5) : "";
}

// Fields up to the blank line, e.g. headers or chunked trailers.
HeaderList read_fields(Reader& reader, std::string* raw, const char* what) {
  HeaderList fields;
  while (true) {
    auto line = reader.read_line(raw, what);
    if (!line) throw RawHttpError(Kind::kTruncated, std::string("connection closed ") + what);
    if (line->empty()) return fields;
    if (raw->size() > kMaxHead) throw RawHttpError(Kind::kMalformed, "response head too large");
    fields.push_back(parse_field(*line));
  }
}

std::optional<std::size_t> content_length(const RawResponse& res) {
  std::optional<std::string> value;
  for (const auto& v : res.headers_named("Content-Length")) {
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos ||
        (value && *value != v)) {
      throw RawHttpError(Kind::kMalformed, "bad or conflicting Content-Length: " + v);
    }
    value = v;
  }
  if (!value) return std::nullopt;
  return static_cast<std::size_t>(std::stoull(*value));
}

bool is_chunked(const RawResponse& res) {
  auto codings = res.headers_named("Transfer-Encoding");
  if (codings.empty()) return false;
  const std::string& last = codings.back();
  std::size_t comma = last.rfind(',');
  return iequals(trim(comma == std::string::npos ? last : last.substr(comma + 1)), "chunked");
}

void read_chunked_body(Reader& reader, RawResponse* res) {
  std::string ignored;
  while (true) {
    auto line = reader.read_line(&ignored, "in a chunk size line");
    if (!line) throw RawHttpError(Kind::kTruncated, "connection closed before a chunk");
    std::string size_text = trim(line->substr(0, line->find(';')));
    if (size_text.empty() || size_text.size() > 15 ||
        size_text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      throw RawHttpError(Kind::kMalformed, "bad chunk size line: " + *line);
    }
    std::size_t size = std::stoull(size_text, nullptr, 16);
    if (size == 0) break;
    reader.read_exact(size, &res->body, "in a chunk");
    auto end = reader.read_line(&ignored, "after a chunk");
    if (!end || !end->empty()) throw RawHttpError(Kind::kMalformed, "chunk not followed by CRLF");
  }
  std::string raw_trailers;
  res->trailers = read_fields(reader, &raw_trailers, "in chunked trailers");
}

}  // namespace

std::optional<std::string> RawResponse::header(const std::string& name) const {
  for (const auto& field : headers) {
    if (iequals(field.first, name)) return field.second;
  }
  return std::nullopt;
}

std::vector<std::string> RawResponse::headers_named(const std::string& name) const {
  std::vector<std::string> values;
  for (const auto& field : headers) {
    if (iequals(field.first, name)) values.push_back(field.second);
  }
  return values;
}

ScopedFd& ScopedFd::operator=(ScopedFd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int ScopedFd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void ScopedFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

int connect_to(int port, std::chrono::milliseconds timeout) {
  return connect_to("127.0.0.1", port, timeout);
}

int connect_to(const std::string& host, int port, std::chrono::milliseconds timeout) {
  std::string where = host + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  int gai = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (gai != 0) throw RawHttpError(Kind::kIo, "bad address " + where + ": " + ::gai_strerror(gai));
  ScopedFd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  int rc = fd.get() < 0 ? -1 : ::connect(fd.get(), found->ai_addr, found->ai_addrlen);
  int err = rc == 0 ? 0 : errno;
  ::freeaddrinfo(found);
  // Non-blocking so a full listen backlog (dropped SYNs) cannot hang the test.
  if (err == EINPROGRESS) {
    wait_for(fd.get(), POLLOUT, Clock::now() + timeout, ("connecting to " + where).c_str());
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  }
  if (err != 0) throw RawHttpError(Kind::kIo, "connect to " + where + ": " + std::strerror(err));
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  return fd.release();
}

void send_all(int fd, const std::string& bytes, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_for(fd, POLLOUT, deadline, "sending");
    } else if (errno != EINTR) {
      throw RawHttpError(Kind::kIo, "send after " + std::to_string(sent) + " bytes: " +
                                        std::strerror(errno));
    }
  }
}

RawResponse read_response(int fd, std::chrono::milliseconds timeout, bool head_request) {
  Reader reader(fd, Clock::now() + timeout);
  RawResponse res;
  auto status_line = reader.read_line(&res.head, "waiting for a status line");
  if (!status_line) throw RawHttpError(Kind::kClosed, "connection closed before any response");
  parse_status_line(*status_line, &res);
  res.headers = read_fields(reader, &res.head, "in response headers");

  // Framing as RFC 9112 section 6.3 orders it.
  bool no_body = head_request || res.status / 100 == 1 || res.status == 204 || res.status == 304;
  if (no_body) return res;
  if (is_chunked(res)) {
    res.chunked = true;
    read_chunked_body(reader, &res);
  } else if (res.header("Transfer-Encoding")) {
    res.until_close = true;
    reader.read_to_end(&res.body, "reading a body framed by close");
  } else if (auto length = content_length(res)) {
    reader.read_exact(*length, &res.body, "in a Content-Length body");
  } else {
    res.until_close = true;
    reader.read_to_end(&res.body, "reading a body framed by close");
  }
  return res;
}

std::string read_until_close(int fd, std::chrono::milliseconds timeout) {
  Reader reader(fd, Clock::now() + timeout);
  std::string bytes;
  reader.read_to_end(&bytes, "waiting for the peer to close");
  return bytes;
}

RawResponse http_request(int port, const std::string& raw_request,
                         std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  ScopedFd fd(connect_to(port, timeout));
  send_all(fd.get(), raw_request, std::chrono::milliseconds(remaining_ms(deadline)));
  bool head = raw_request.compare(0, 5, "HEAD ") == 0;
  return read_response(fd.get(), std::chrono::milliseconds(remaining_ms(deadline)), head);
}

std::string build_request(const std::string& method, const std::string& target,
                          const HeaderList& headers, const std::string& body) {
  bool has_host = false;
  bool has_framing = false;
  std::string fields;
  for (const auto& field : headers) {
    has_host = has_host || iequals(field.first, "Host");
    has_framing = has_framing || iequals(field.first, "Content-Length") ||
                  iequals(field.first, "Transfer-Encoding");
    fields += field.first + ": " + field.second + "\r\n";
  }
  std::string out = method + " " + target + " HTTP/1.1\r\n";
  if (!has_host) out += "Host: 127.0.0.1\r\n";
  out += fields;
  bool wants_length = !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
  if (wants_length && !has_framing) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return out + "\r\n" + body;
}

RawResponse http_get(int port, const std::string& target, const HeaderList& headers) {
  return http_request(port, build_request("GET", target, headers));
}

// `bytes` readable in a one-line message: CR, LF, tab, backslash and other
// unprintable bytes as escapes, at most `limit` bytes of input.
std::string escaped(const std::string& bytes, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (bytes.size() > limit) out += "...";
  return out;
}

int listen_loopback(int& port, const std::string& who) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error(who + ": cannot listen");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace test_support
