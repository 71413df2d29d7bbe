#include "test/support/text_stream_backend.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "test/support/raw_http.h"

namespace test_support {

namespace {

constexpr size_t kBlock = 64 * 1024;

// Log-like lines, so it compresses as text does (far more than 10x, as
// repeated lines do), the same block again and again.
const std::string& text_block() {
  static const std::string block = [] {
    std::string text;
    for (int i = 0; text.size() < kBlock; ++i) {
      text += "2026-12-03T22:" + std::to_string(10 + i % 50) + " GET /api/items/" + std::to_string(i * 7919 % 100003) +
              " 200 " + std::to_string(i * 31 % 997) + "ms \"Mozilla/5.0 (X11; Linux x86_64)\"\n";
    }
    text.resize(kBlock);
    return text;
  }();
  return block;
}

// Sends all `len` bytes (a partial send continues where it stopped).
bool send_whole(int fd, const char* data, size_t len) {
  while (len > 0) {
    const ssize_t sent = ::send(fd, data, len, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data += sent;
    len -= static_cast<size_t>(sent);
  }
  return true;
}

}  // namespace

TextStreamBackend::TextStreamBackend(uint64_t body_bytes) : body_bytes_(body_bytes) {
  listen_fd_ = listen_loopback(port_, "TextStreamBackend");
  acceptor_ = std::thread([this] { accept_loop(); });
}

TextStreamBackend::~TextStreamBackend() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto& worker : workers) worker.join();
}

std::string TextStreamBackend::body_prefix(size_t bytes) {
  std::string out;
  while (out.size() < bytes) out += text_block();
  out.resize(bytes);
  return out;
}

void TextStreamBackend::accept_loop() {
  while (!stopping_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mutex_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

// Requests without bodies, one after another on the connection.
void TextStreamBackend::serve(int fd) {
  std::string pending;
  char buffer[4096];
  for (;;) {
    const size_t head_end = pending.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      pending.append(buffer, static_cast<size_t>(n));
      continue;
    }
    const bool health = pending.compare(0, 12, "GET /health ") == 0;
    pending.erase(0, head_end + 4);
    if (health) {
      static const char kOk[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
      if (::send(fd, kOk, sizeof kOk - 1, MSG_NOSIGNAL) < 0) break;
      continue;
    }
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                             std::to_string(body_bytes_) + "\r\n\r\n";
    if (::send(fd, head.data(), head.size(), MSG_NOSIGNAL) < 0) break;
    uint64_t left = body_bytes_;
    while (left > 0 && !stopping_) {
      const size_t part = static_cast<size_t>(std::min<uint64_t>(left, kBlock));
      if (!send_whole(fd, text_block().data(), part)) break;
      left -= part;
    }
    if (left > 0) break;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  ::close(fd);
}

}  // namespace test_support
