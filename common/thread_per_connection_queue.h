// A cpp-httplib TaskQueue that serves every accepted connection on its own thread.
//
// httplib's default ThreadPool has a fixed number of workers, and a keep-alive
// connection holds one for its whole life, so a handful of idle clients can stall
// everyone else. This queue gives every connection a small-stack thread of its
// own, up to `max_connections`; beyond that enqueue() blocks, so the accept loop
// pauses and new connections wait in the kernel's listen backlog rather than
// being dropped.
//
// A thread whose connection has closed waits, idle, for the next one instead of
// exiting: a new connection then costs a wake-up, not a pthread_create, a fresh
// stack and an exit (the proxy, ab -c 32, one connection per request: see the
// commit that added the pool). The most recently idle thread is woken first,
// so its stack is still in cache, and a thread idle for `idle_timeout` exits:
// a burst's threads are trimmed once the burst is over. At most `max_idle`
// threads wait idle (Apache's MaxSpareThreads): when 10,000 connections close
// at once, all but that many threads exit at once and give their memory back.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace common {

class ThreadPerConnectionQueue : public httplib::TaskQueue {
 public:
  // How the kernel schedules the connection threads.
  enum class Scheduling {
    Normal,  // SCHED_OTHER: a woken thread may preempt the running one
    // SCHED_BATCH: a woken thread waits for the running one to block or use
    // up its slice. Every request wakes a thread twice (request in, response
    // back); without preemption the waker (client, backend, another
    // connection) goes on with its own work and switches are fewer (lb, 64
    // connections: ~30% more requests/s, CPU per request 24.5 -> 19.6 us).
    // The 100 us slice keeps a woken thread's wait short: p99 4.4 -> 3.0 ms
    // for ~5% fewer requests/s than the default slice.
    Batch,
  };
  static constexpr unsigned long long kBatchSliceNanoseconds = 100 * 1000;
  static constexpr std::chrono::milliseconds kDefaultIdleTimeout{10 * 1000};
  static constexpr std::size_t kDefaultMaxIdle = 256;

  // `drain_timeout`: how long shutdown() waits for running connections to finish.
  ThreadPerConnectionQueue(std::size_t max_connections, std::chrono::milliseconds drain_timeout,
                           std::size_t stack_bytes = 256 * 1024, Scheduling scheduling = Scheduling::Normal,
                           std::chrono::milliseconds idle_timeout = kDefaultIdleTimeout,
                           std::size_t max_idle = kDefaultMaxIdle);
  ~ThreadPerConnectionQueue() override;

  // Runs `fn` on an idle thread, or a new one when none is idle.
  void enqueue(std::function<void()> fn) override;

  // Waits (bounded by drain_timeout) until every connection has finished, then
  // lets the idle threads exit. The queue can be used again afterwards.
  void shutdown() override;

  // True when the last shutdown() returned with connections still running.
  bool drain_timed_out() const;

  // Threads alive (serving or idle) and those idle: for tests and /metrics.
  std::size_t threads() const;
  std::size_t idle_threads() const;

  // Defined in the .cpp; named here so its thread functions can use them.
  struct Worker;
  struct State;

 private:
  // Shared with the threads, so a thread that outlives a timed-out shutdown()
  // still has valid state to report to.
  std::shared_ptr<State> state_;
  const std::size_t max_connections_;
  const std::chrono::milliseconds drain_timeout_;
  const std::size_t stack_bytes_;
  bool drain_timed_out_ = false;
};

}  // namespace common
