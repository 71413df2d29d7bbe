// One HTTP/2 stream, between the connection's thread (which owns the nghttp2
// session and the socket: lb/proxy/http2_connection.h) and the worker thread
// that serves its exchange (lb/proxy/http2_stream_client.h).
//
// Nothing is turned into HTTP/1.1 text: the request head is a MessageHead
// built from the HEADERS frame (http2_request_head.h) before the worker
// starts, and read-only after; the body goes as DATA bytes; the response
// comes back as a status, fields, body bytes and trailers (Http2Response).
//
// Hand-offs, under this stream's one mutex, never held over I/O:
//   connection thread -> worker: request body bytes (bounded by the stream's
//     flow-control window: the client gets more window only as the worker
//     takes bytes), the request's end with its trailers, a reset;
//   worker -> connection thread: response parts (bounded: the worker waits
//     while 256 KB of body are not taken yet), the worker's end; each wakes
//     the connection thread through its eventfd (WakeUp), which it polls
//     with the socket. A small response is one hand-off and one wake-up.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "lb/http/message_head.h"
#include "lb/transport/stream.h"

namespace lb {

// The connection thread's wake-up: an eventfd it polls with its socket.
// Workers signal() news (a response part, window to give back); the eventfd
// is written only while the connection thread sleeps in poll (or is about
// to), so a busy connection thread costs its workers no system call.
class WakeUp {
 public:
  WakeUp();
  ~WakeUp();
  WakeUp(const WakeUp&) = delete;
  WakeUp& operator=(const WakeUp&) = delete;
  int fd() const { return fd_; }
  // A worker's news.
  void signal();
  // The connection thread is about to look at every stream: news from now
  // on is new.
  void take_news();
  // Before poll: true when it may sleep; false when news came since
  // take_news() (it polls without waiting instead).
  bool ready_to_sleep();
  // After poll: awake again; `readable`: the eventfd was written, and is emptied.
  void woke(bool readable);

 private:
  int fd_;
  std::atomic<bool> news_{false};      // signal() since take_news()
  std::atomic<bool> sleeping_{false};  // between ready_to_sleep() and woke(): signal() writes the eventfd
};

using Http2Fields = std::vector<std::pair<std::string, std::string>>;  // lower-case names

// The response, or the part of it not yet handed over.
struct Http2Response {
  bool has_head = false;
  int status = 0;
  Http2Fields fields;
  bool bodiless = false;  // HEAD, 204, 304: HEADERS ends the stream
  std::string body;
  Http2Fields trailers;
  bool complete = false;  // the body has ended (the trailers, if any, are in)

  // Moves what `more` holds onto the end of this one; `more` is left empty.
  void take_from(Http2Response& more);
};

class Http2Stream {
 public:
  explicit Http2Stream(std::shared_ptr<WakeUp> wake) : wake_(std::move(wake)) {}

  // Written by the connection thread before the worker starts; read-only after.
  MessageHead request;
  bool head_too_large = false;  // its fields passed --max-header-size: answered 431

  // --- the worker's side ---
  // Before the worker serves the stream: false when the connection thread
  // refused it first (a stop came while the stream waited for a worker), or
  // the client reset it meanwhile (nothing is sent to a backend then).
  bool begin_work();
  // The client reset the stream (or the connection is gone).
  bool was_reset();
  // Request body bytes: > 0 read, kEof at its end, kTimeout, kIoError once reset.
  ssize_t read_body(char* buf, size_t len, Millis timeout);
  // After kEof: the request's trailer fields.
  TrailerFields take_trailers();
  // Hands `part` over (it is left empty). False once the stream is reset, or
  // when the client takes nothing for `timeout`.
  bool deliver(Http2Response& part, Millis timeout);
  // The worker has finished: no more response parts.
  void worker_done();

  // --- the connection thread's side ---
  // At a stop: true when no worker has begun the stream, which then never
  // will (the stream is refused); false when one has, and will finish it.
  bool refuse_unbegun();
  void push_body(const char* data, size_t len);  // DATA bytes, in order
  void end_request(TrailerFields trailers);      // the client sent END_STREAM
  void reset();                                  // the stream is gone: the worker's I/O fails
  // Moves what the worker delivered into `into`; true once the worker is done.
  bool collect(Http2Response& into);
  // Request bytes the worker read since the last call (to give back as window).
  size_t take_consumed();

 private:
  static constexpr size_t kMaxUntakenBody = 256 * 1024;
  static constexpr size_t kWindowWorthAWakeUp = 16 * 1024;  // read this much: tell the connection thread
  const std::shared_ptr<WakeUp> wake_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string body_in_;           // guards: mutex_; request bytes not yet read by the worker
  bool request_ended_ = false;    // guards: mutex_
  TrailerFields trailers_;        // guards: mutex_
  size_t consumed_ = 0;           // guards: mutex_; read by the worker, not yet given back as window
  Http2Response response_;        // guards: mutex_; delivered by the worker, not yet collected
  bool worker_done_ = false;      // guards: mutex_
  bool reset_ = false;            // guards: mutex_
  enum class Work { Waiting, Begun, Refused } work_ = Work::Waiting;  // guards: mutex_; who decided first
};

}  // namespace lb
