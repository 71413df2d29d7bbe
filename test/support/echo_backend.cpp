#include "test/support/echo_backend.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "test/support/raw_http.h"

namespace test_support {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxHead = 64 * 1024;
constexpr std::size_t kMaxBody = 1024 * 1024;
constexpr std::size_t kMaxChunkLine = 1024;
constexpr int kMaxChunks = 10000;
constexpr int kMaxTrailers = 100;
constexpr int kPollMs = 100;                      // how often a waiting thread looks at stopping_
constexpr auto kIdleLimit = std::chrono::seconds(60);  // a silent connection is closed after this
constexpr auto kSendLimit = std::chrono::seconds(5);   // a peer that reads nothing for this long is dropped
constexpr auto kDrainLimit = std::chrono::milliseconds(500);  // reading what is left before a close

bool iequals(const std::string& a, const char* b) {
  return a.size() == std::strlen(b) && ::strncasecmp(a.data(), b, a.size()) == 0;
}

bool is_tchar(unsigned char c) {
  return std::isalnum(c) || (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

bool all_tchars(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

std::string trim_ows(const std::string& s) {
  std::size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

// What the bytes at the start of a connection's buffer hold.
struct Parsed {
  enum class State { kNeedMore, kComplete, kBad };
  State state = State::kNeedMore;
  std::string reason;           // kBad: what is wrong
  std::size_t head_size = 0;    // kComplete: request line through the blank line
  std::size_t total_size = 0;   // kComplete: head and body framing, the bytes to consume
  std::string method;
  std::string target;
  bool close = false;           // answer, then close the connection
};

Parsed need_more() { return Parsed{}; }

Parsed bad(const std::string& reason) {
  Parsed p;
  p.state = Parsed::State::kBad;
  p.reason = reason;
  return p;
}

// A chunked body starting at data[pos]; on success sets *end past its last CRLF.
Parsed::State parse_chunked(const std::string& data, std::size_t pos, std::size_t* end, std::string* reason) {
  std::size_t body_bytes = 0;
  for (int chunk = 0; chunk <= kMaxChunks; ++chunk) {
    std::size_t eol = data.find("\r\n", pos);
    if (eol == std::string::npos) {
      if (data.size() - pos > kMaxChunkLine) break;
      return Parsed::State::kNeedMore;
    }
    std::string line = data.substr(pos, eol - pos);
    std::string size_text = line.substr(0, line.find(';'));
    if (size_text.empty() || size_text.size() > 6 ||
        size_text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      *reason = "bad chunk size line";
      return Parsed::State::kBad;
    }
    std::size_t size = std::strtoul(size_text.c_str(), nullptr, 16);
    pos = eol + 2;
    if (size == 0) {  // the last chunk: trailer fields up to an empty line
      for (int trailer = 0; trailer <= kMaxTrailers; ++trailer) {
        eol = data.find("\r\n", pos);
        if (eol == std::string::npos) {
          if (data.size() - pos > kMaxChunkLine) break;
          return Parsed::State::kNeedMore;
        }
        if (eol == pos) {
          *end = pos + 2;
          return Parsed::State::kComplete;
        }
        std::string field = data.substr(pos, eol - pos);
        std::size_t colon = field.find(':');
        if (colon == std::string::npos || !all_tchars(field.substr(0, colon))) {
          *reason = "bad trailer line";
          return Parsed::State::kBad;
        }
        pos = eol + 2;
      }
      *reason = "trailer section too long";
      return Parsed::State::kBad;
    }
    body_bytes += size;
    if (body_bytes > kMaxBody) {
      *reason = "chunked body over 1 MiB";
      return Parsed::State::kBad;
    }
    if (data.size() < pos + size + 2) return Parsed::State::kNeedMore;
    if (data.compare(pos + size, 2, "\r\n") != 0) {
      *reason = "chunk data not followed by CRLF";
      return Parsed::State::kBad;
    }
    pos += size + 2;
  }
  *reason = "too many chunks or an over-long chunk line";
  return Parsed::State::kBad;
}

// The first request in `data`, strictly: any byte out of place is kBad.
Parsed parse_request(const std::string& data) {
  // The head, checking every byte as it arrives: no NUL, no bare CR or LF.
  std::size_t head_end = std::string::npos;
  for (std::size_t i = 0; i < data.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    if (i >= kMaxHead) return bad("head over 64 KiB");
    if (c == 0) return bad("NUL byte in the head");
    if (c == '\r' && i + 1 < data.size() && data[i + 1] != '\n') return bad("bare CR in the head");
    if (c == '\n') {
      if (i == 0 || data[i - 1] != '\r') return bad("bare LF in the head");
      if (i == 1) return bad("empty line before the request line");
      if (i >= 3 && data.compare(i - 3, 4, "\r\n\r\n") == 0) {
        head_end = i + 1;
        break;
      }
    }
  }
  if (head_end == std::string::npos) return need_more();

  // Lines, each without its CRLF; the last one is the empty line.
  std::vector<std::string> lines;
  for (std::size_t pos = 0; pos < head_end;) {
    std::size_t eol = data.find("\r\n", pos);
    lines.push_back(data.substr(pos, eol - pos));
    pos = eol + 2;
  }

  Parsed p;
  const std::string& request_line = lines.front();
  std::size_t first_space = request_line.find(' ');
  std::size_t second_space = first_space == std::string::npos ? std::string::npos : request_line.find(' ', first_space + 1);
  if (second_space == std::string::npos || request_line.find(' ', second_space + 1) != std::string::npos) {
    return bad("request line is not METHOD SP TARGET SP VERSION");
  }
  p.method = request_line.substr(0, first_space);
  p.target = request_line.substr(first_space + 1, second_space - first_space - 1);
  std::string version = request_line.substr(second_space + 1);
  if (!all_tchars(p.method)) return bad("bad method");
  if (p.target.empty() || !std::all_of(p.target.begin(), p.target.end(), [](char c) {
        return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
      })) {
    return bad("bad request target");
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return bad("bad HTTP version");

  int hosts = 0;
  bool connection_close = false;
  bool connection_keep_alive = false;
  std::vector<std::string> content_lengths;
  std::vector<std::string> transfer_encodings;
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line[0] == ' ' || line[0] == '\t') return bad("obs-fold (a header line starting with whitespace)");
    std::size_t colon = line.find(':');
    if (colon == std::string::npos) return bad("header line without a colon");
    std::string name = line.substr(0, colon);
    if (!all_tchars(name)) return bad("bad header name");
    std::string value = trim_ows(line.substr(colon + 1));
    for (char ch : value) {
      unsigned char c = static_cast<unsigned char>(ch);
      if ((c < 0x20 && c != '\t') || c == 0x7f) return bad("control byte in a header value");
    }
    if (iequals(name, "Host")) ++hosts;
    if (iequals(name, "Content-Length")) content_lengths.push_back(value);
    if (iequals(name, "Transfer-Encoding")) transfer_encodings.push_back(value);
    if (iequals(name, "Connection")) {
      for (std::size_t start = 0; start <= value.size();) {
        std::size_t comma = value.find(',', start);
        if (comma == std::string::npos) comma = value.size();
        std::string token = trim_ows(value.substr(start, comma - start));
        if (iequals(token, "close")) connection_close = true;
        if (iequals(token, "keep-alive")) connection_keep_alive = true;
        start = comma + 1;
      }
    }
  }
  if (hosts > 1) return bad("more than one Host");
  p.close = connection_close || (version == "HTTP/1.0" && !connection_keep_alive);
  p.head_size = head_end;
  p.total_size = head_end;

  // Only these methods have a body here; on any other the framing headers are
  // ignored and the next bytes are the next request.
  if (p.method != "POST" && p.method != "PUT" && p.method != "PATCH") {
    p.state = Parsed::State::kComplete;
    return p;
  }
  if (!transfer_encodings.empty()) {
    if (!content_lengths.empty()) return bad("Content-Length with Transfer-Encoding");
    if (transfer_encodings.size() != 1 || !iequals(transfer_encodings[0], "chunked")) {
      return bad("Transfer-Encoding other than a single chunked");
    }
    std::string reason;
    Parsed::State state = parse_chunked(data, head_end, &p.total_size, &reason);
    if (state == Parsed::State::kBad) return bad(reason);
    if (state == Parsed::State::kNeedMore) return need_more();
  } else if (!content_lengths.empty()) {
    if (content_lengths.size() > 1) return bad("more than one Content-Length");
    const std::string& text = content_lengths[0];
    if (text.empty() || text.size() > 7 || text.find_first_not_of("0123456789") != std::string::npos) {
      return bad("bad Content-Length");
    }
    std::size_t length = std::strtoul(text.c_str(), nullptr, 10);
    if (length > kMaxBody) return bad("Content-Length over 1 MiB");
    if (data.size() < head_end + length) return need_more();
    p.total_size = head_end + length;
  }
  p.state = Parsed::State::kComplete;
  return p;
}

// Sends all of `bytes`, giving up if the peer reads nothing for kSendLimit.
bool send_bounded(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  auto deadline = Clock::now() + kSendLimit;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      deadline = Clock::now() + kSendLimit;
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    if (Clock::now() >= deadline) return false;
    pollfd pfd{fd, POLLOUT, 0};
    ::poll(&pfd, 1, kPollMs);
  }
  return true;
}

// Ends our side, then reads (and drops) what the peer still sends for a
// moment, so our last answer is not lost to a reset.
void close_gently(int fd) {
  ::shutdown(fd, SHUT_WR);
  auto deadline = Clock::now() + kDrainLimit;
  char buf[4096];
  while (Clock::now() < deadline) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, kPollMs) <= 0) continue;
    if (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) return;
  }
}

}  // namespace

EchoBackend::EchoBackend() {
  listen_fd_ = listen_loopback(port_, "EchoBackend");
  acceptor_ = std::thread([this] { accept_loop(); });
}

EchoBackend::~EchoBackend() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<Worker> workers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto& worker : workers) worker.thread.join();  // each sees stopping_ within kPollMs
}

int EchoBackend::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

int EchoBackend::rejected() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rejected_;
}

void EchoBackend::accept_loop() {
  while (!stopping_) {
    reap_finished_workers();
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, kPollMs) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::lock_guard<std::mutex> lock(mutex_);
    open_fds_.push_back(fd);
    workers_.push_back(Worker{std::thread([this, fd, done] {
                                serve(fd);
                                *done = true;
                              }),
                              done});
  }
}

// Joins the threads whose connection has ended, so a long test with many
// short connections does not pile up finished threads.
void EchoBackend::reap_finished_workers() {
  std::vector<Worker> finished;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto split = std::partition(workers_.begin(), workers_.end(), [](const Worker& w) { return !*w.done; });
    std::move(split, workers_.end(), std::back_inserter(finished));
    workers_.erase(split, workers_.end());
  }
  for (auto& worker : finished) worker.thread.join();
}

// One connection: parse, answer, repeat; ends on a close, a 400, stop or kIdleLimit.
void EchoBackend::serve(int fd) {
  std::string pending;
  char buf[16384];
  auto last_activity = Clock::now();
  while (!stopping_) {
    Parsed request = parse_request(pending);
    if (request.state == Parsed::State::kComplete) {
      const bool health = request.method == "GET" && request.target == "/health";
      const std::string head = pending.substr(0, request.head_size);
      const std::string body = health ? std::string("ok") : head;
      std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n" +
                           (request.close ? "Connection: close\r\n" : "") + "\r\n";
      if (request.method != "HEAD") answer += body;
      pending.erase(0, request.total_size);
      if (!health) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++requests_;
      }
      if (!send_bounded(fd, answer)) break;
      if (request.close) {
        close_gently(fd);
        break;
      }
      continue;
    }
    if (request.state == Parsed::State::kBad) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ++rejected_;
      }
      std::string body = "echo backend cannot parse (" + request.reason + "): " + escaped(pending, 300) + "\n";
      send_bounded(fd, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
      close_gently(fd);
      break;
    }
    // More bytes needed (an unfinished request is dropped if the peer closes).
    pollfd pfd{fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, kPollMs);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) {
      if (Clock::now() - last_activity > kIdleLimit) break;
      continue;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<std::size_t>(n));
    last_activity = Clock::now();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  ::close(fd);
}

}  // namespace test_support
