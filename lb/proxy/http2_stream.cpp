#include "lb/proxy/http2_stream.h"

#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace lb {

WakeUp::WakeUp() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) throw std::runtime_error("eventfd failed");
}

WakeUp::~WakeUp() { ::close(fd_); }

void WakeUp::signal() const {
  const uint64_t one = 1;
  ssize_t ignored = ::write(fd_, &one, sizeof one);  // adds to a counter: never blocks in practice
  (void)ignored;
}

void WakeUp::drain() const {
  uint64_t count;
  ssize_t ignored = ::read(fd_, &count, sizeof count);  // non-blocking: EAGAIN when nothing was signalled
  (void)ignored;
}

ssize_t StreamPipe::read(char* buf, size_t len, Millis timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [this] { return !request_.empty() || request_ended_ || reset_; })) {
    return kTimeout;
  }
  if (reset_) return kIoError;
  if (request_.empty()) return kEof;
  const size_t n = std::min(len, request_.size());
  std::memcpy(buf, request_.data(), n);
  request_.erase(0, n);
  consumed_ += n;
  lock.unlock();
  wake_->signal();  // the connection thread can open the client's window by `n`
  return static_cast<ssize_t>(n);
}

bool StreamPipe::write_all(struct iovec* iov, int count, Millis timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (int i = 0; i < count; ++i) {
    // Backpressure: the client's flow control decides how fast we may go.
    if (!changed_.wait_for(lock, timeout, [this] { return response_.size() < kMaxUntakenResponse || reset_; })) {
      return false;
    }
    if (reset_) return false;
    response_.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  }
  lock.unlock();
  wake_->signal();
  return true;
}

bool StreamPipe::begin_work() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (work_ == Work::Waiting) work_ = Work::Begun;
  return work_ == Work::Begun;
}

bool StreamPipe::refuse_unbegun() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (work_ == Work::Waiting) work_ = Work::Refused;
  return work_ == Work::Refused;
}

void StreamPipe::worker_done() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    worker_done_ = true;
  }
  wake_->signal();
}

void StreamPipe::push_request(const char* data, size_t len) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    request_.append(data, len);
  }
  changed_.notify_all();
}

void StreamPipe::end_request() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    request_ended_ = true;
  }
  changed_.notify_all();
}

void StreamPipe::reset() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    reset_ = true;
  }
  changed_.notify_all();
}

bool StreamPipe::take_response(std::string& out) {
  bool done;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    out.append(response_);
    response_.clear();
    done = worker_done_;
  }
  changed_.notify_all();  // a worker waiting for room may go on
  return done;
}

size_t StreamPipe::take_consumed() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(consumed_, 0);
}

}  // namespace lb
