#include "lb/proxy/http2_stream.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace lb {

WakeUp::WakeUp() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) throw std::runtime_error("eventfd failed");
}

WakeUp::~WakeUp() { ::close(fd_); }

// Sequentially consistent: if signal() stores its news after
// ready_to_sleep() looked, its exchange comes after ready_to_sleep()'s store
// of `sleeping_`, sees it, and writes the eventfd. No news is slept through.
void WakeUp::signal() {
  news_.store(true);
  if (!sleeping_.exchange(false)) return;
  const uint64_t one = 1;
  ssize_t ignored = ::write(fd_, &one, sizeof one);  // adds to a counter: never blocks in practice
  (void)ignored;
}

void WakeUp::take_news() { news_.store(false); }

bool WakeUp::ready_to_sleep() {
  sleeping_.store(true);
  if (!news_.load()) return true;
  sleeping_.store(false);
  return false;
}

void WakeUp::woke(bool readable) {
  sleeping_.store(false);
  if (!readable) return;
  uint64_t count;
  ssize_t ignored = ::read(fd_, &count, sizeof count);  // non-blocking: EAGAIN when nothing was written
  (void)ignored;
}

void Http2Response::take_from(Http2Response& more) {
  if (more.has_head) {
    has_head = true;
    status = more.status;
    fields = std::move(more.fields);
    bodiless = more.bodiless;
    more.has_head = false;
    more.fields.clear();
  }
  if (body.empty()) {
    body.swap(more.body);  // no copy for the common single hand-off
  } else {
    body.append(more.body);
  }
  more.body.clear();
  if (!more.trailers.empty()) trailers = std::move(more.trailers);
  more.trailers.clear();
  complete = complete || more.complete;
  more.complete = false;
}

bool Http2Stream::begin_work() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (work_ == Work::Waiting) work_ = reset_ ? Work::Refused : Work::Begun;  // a stream already cancelled: no backend
  return work_ == Work::Begun;
}

bool Http2Stream::was_reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  return reset_;
}

ssize_t Http2Stream::read_body(char* buf, size_t len, Millis timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [this] { return !body_in_.empty() || request_ended_ || reset_; })) {
    return kTimeout;
  }
  if (reset_) return kIoError;
  if (body_in_.empty()) return kEof;
  const size_t n = std::min(len, body_in_.size());
  std::memcpy(buf, body_in_.data(), n);
  body_in_.erase(0, n);
  consumed_ += n;
  const bool worth_a_wake_up = consumed_ >= kWindowWorthAWakeUp;
  lock.unlock();
  if (worth_a_wake_up) wake_->signal();  // the connection thread can open the client's window
  return static_cast<ssize_t>(n);
}

TrailerFields Http2Stream::take_trailers() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::move(trailers_);
}

bool Http2Stream::deliver(Http2Response& part, Millis timeout) {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    // Backpressure: the client's flow control decides how fast we may go.
    if (!changed_.wait_for(lock, timeout, [this] { return response_.body.size() < kMaxUntakenBody || reset_; })) {
      return false;
    }
    if (reset_) return false;
    response_.take_from(part);
  }
  wake_->signal();
  return true;
}

void Http2Stream::worker_done() {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    worker_done_ = true;
    // A complete response already woke the connection thread, which ends the
    // stream without waiting for this; only an unfinished one needs the news.
    wake = !response_.complete;
  }
  if (wake) wake_->signal();
}

bool Http2Stream::refuse_unbegun() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (work_ == Work::Waiting) work_ = Work::Refused;
  return work_ == Work::Refused;
}

void Http2Stream::push_body(const char* data, size_t len) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    body_in_.append(data, len);
  }
  changed_.notify_all();
}

void Http2Stream::end_request(TrailerFields trailers) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    request_ended_ = true;
    trailers_ = std::move(trailers);
  }
  changed_.notify_all();
}

void Http2Stream::reset() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    reset_ = true;
  }
  changed_.notify_all();
}

bool Http2Stream::collect(Http2Response& into) {
  bool done;
  bool had_body;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    had_body = response_.body.size() >= kMaxUntakenBody;
    into.take_from(response_);
    done = worker_done_;
  }
  if (had_body) changed_.notify_all();  // a worker waiting for room may go on
  return done;
}

size_t Http2Stream::take_consumed() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(consumed_, 0);
}

}  // namespace lb
