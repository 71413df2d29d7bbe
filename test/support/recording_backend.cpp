#include "test/support/recording_backend.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "test/support/raw_http.h"

namespace test_support {

namespace {

// The length of the chunked body starting at `start` of `data`, through its
// last chunk and trailer section, or npos while it is incomplete. Chunk
// extensions are skipped; sizes are trusted (a test backend, not a parser).
size_t chunked_body_length(const std::string& data, size_t start) {
  size_t pos = start;
  for (;;) {
    size_t line_end = data.find("\r\n", pos);
    if (line_end == std::string::npos) return std::string::npos;
    size_t size = std::strtoul(data.c_str() + pos, nullptr, 16);
    pos = line_end + 2;
    if (size == 0) break;
    pos += size + 2;  // the chunk and its CRLF
    if (pos > data.size()) return std::string::npos;
  }
  for (;;) {  // trailer lines up to an empty one
    size_t line_end = data.find("\r\n", pos);
    if (line_end == std::string::npos) return std::string::npos;
    const bool empty = line_end == pos;
    pos = line_end + 2;
    if (empty) return pos - start;
  }
}

}  // namespace

RecordingBackend::RecordingBackend(std::string response, std::chrono::milliseconds delay)
    : response_(std::move(response)), delay_(delay) {
  listen_fd_ = listen_loopback(port_, "RecordingBackend");
  acceptor_ = std::thread([this] { accept_loop(); });
}

RecordingBackend::~RecordingBackend() {
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

std::string RecordingBackend::received() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return received_;
}

int RecordingBackend::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

void RecordingBackend::accept_loop() {
  while (!stopping_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mutex_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

// Sends back `already` and then every byte that arrives, until the peer closes.
void RecordingBackend::echo(int fd, const std::string& already) {
  if (!already.empty() && ::send(fd, already.data(), already.size(), MSG_NOSIGNAL) < 0) return;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0 || ::send(fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL) < 0) return;
  }
}

// Reads requests (head, then a Content-Length or chunked body) and answers each.
void RecordingBackend::serve(int fd) {
  std::string pending;
  char buf[65536];
  for (;;) {
    size_t head_end;
    while ((head_end = pending.find("\r\n\r\n")) != std::string::npos) {
      std::string head = pending.substr(0, head_end + 4);
      size_t body_length = 0;
      std::string lower = head;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      size_t cl = lower.find("\r\ncontent-length:");
      if (cl != std::string::npos) body_length = std::strtoul(lower.c_str() + cl + 17, nullptr, 10);
      if (lower.find("\r\ntransfer-encoding: chunked\r\n") != std::string::npos) {
        body_length = chunked_body_length(pending, head.size());
        if (body_length == std::string::npos) break;  // the rest of the body comes later
      }
      if (pending.size() < head.size() + body_length) break;
      bool health = head.compare(0, 12, "GET /health ") == 0;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!health) {
          received_ += pending.substr(0, head.size() + body_length);
          ++requests_;
        }
      }
      pending.erase(0, head.size() + body_length);
      if (!health && delay_.count() > 0) std::this_thread::sleep_for(delay_);
      const std::string& answer = health ? std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") : response_;
      if (answer.empty()) goto done;  // plays a backend that dies mid-request
      if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) break;
      if (!health && close_after_response_) goto done;
      if (!health && echo_after_response_) {
        echo(fd, pending);
        pending.clear();
        goto done;
      }
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
  }
done:
  std::lock_guard<std::mutex> lock(mutex_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  ::close(fd);
}

}  // namespace test_support
