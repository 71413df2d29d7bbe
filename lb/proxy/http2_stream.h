// One HTTP/2 stream, between the connection's thread (which owns the nghttp2
// session and the socket) and the worker thread that proxies it.
//
// The worker runs an ordinary ProxyConnection over a StreamPipe: it reads the
// request as HTTP/1.1 bytes (the connection thread writes the head it built
// from the HEADERS frame, then the DATA as they arrive, chunked) and writes
// the response as HTTP/1.1 bytes, which the connection thread parses back
// into HEADERS and DATA. So an HTTP/2 request takes exactly the path of an
// HTTP/1.1 one: strict parsing, routes, selection, retries, rate limit,
// header rules, access log, trace, metrics.
//
// Hand-offs, one mutex per stream, never held over I/O:
//   connection thread -> worker: request bytes (bounded by the stream's flow
//     control window: the connection thread gives the client more window only
//     as the worker takes bytes), the end of the request, a reset;
//   worker -> connection thread: response bytes (bounded: the worker waits
//     while 256 KB are not taken yet), the worker's end; each wakes the
//     connection thread through its eventfd, which it polls with the socket.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "lb/transport/stream.h"

namespace lb {

// The connection thread's eventfd: workers signal(), it polls fd() and drain()s.
class WakeUp {
 public:
  WakeUp();
  ~WakeUp();
  WakeUp(const WakeUp&) = delete;
  WakeUp& operator=(const WakeUp&) = delete;
  int fd() const { return fd_; }
  void signal() const;
  void drain() const;

 private:
  int fd_;
};

class StreamPipe {
 public:
  explicit StreamPipe(std::shared_ptr<WakeUp> wake) : wake_(std::move(wake)) {}

  // --- the worker's side (through PipeEnd, a ProxyConnection's client) ---
  // Before the worker serves the stream: false when the connection thread
  // refused it first (a stop came while the stream waited for a worker).
  bool begin_work();
  ssize_t read(char* buf, size_t len, Millis timeout);
  bool write_all(struct iovec* iov, int count, Millis timeout);
  // The worker's ProxyConnection returned: no more response bytes.
  void worker_done();

  // --- the connection thread's side ---
  // At a stop: true when no worker has begun the stream, which then never
  // will (the stream is refused); false when one has, and will finish it.
  bool refuse_unbegun();
  void push_request(const char* data, size_t len);  // request bytes, in order
  void end_request();                               // the client sent END_STREAM
  void reset();                                     // the stream is gone: the worker's I/O fails
  // Moves the response bytes written so far into `out`; true once the worker is done
  // and everything was taken.
  bool take_response(std::string& out);
  // Request bytes the worker read since the last call (to give back as window).
  size_t take_consumed();

 private:
  static constexpr size_t kMaxUntakenResponse = 256 * 1024;
  const std::shared_ptr<WakeUp> wake_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string request_;           // guards: mutex_; not yet read by the worker
  bool request_ended_ = false;    // guards: mutex_
  size_t consumed_ = 0;           // guards: mutex_; read by the worker, not yet given back as window
  std::string response_;          // guards: mutex_; written by the worker, not yet taken
  bool worker_done_ = false;      // guards: mutex_
  bool reset_ = false;            // guards: mutex_
  enum class Work { Waiting, Begun, Refused } work_ = Work::Waiting;  // guards: mutex_; who decided first
};

// The worker's end of a pipe, as the Stream a ProxyConnection reads and writes.
class PipeEnd : public Stream {
 public:
  explicit PipeEnd(std::shared_ptr<StreamPipe> pipe) : pipe_(std::move(pipe)) {}
  ssize_t read(char* buf, size_t len, Millis timeout) override { return pipe_->read(buf, len, timeout); }
  bool write_all(struct iovec* iov, int count, Millis timeout) override { return pipe_->write_all(iov, count, timeout); }
  using Stream::write_all;
  int fd() const override { return -1; }
  bool idle_and_open() override { return false; }

 private:
  std::shared_ptr<StreamPipe> pipe_;
};

}  // namespace lb
