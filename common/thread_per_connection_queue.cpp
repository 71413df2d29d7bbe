#include "common/thread_per_connection_queue.h"

#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <utility>

#include "common/thread_scheduling.h"

namespace common {

// One thread's mailbox: the connection it serves next. The thread sleeps on
// a semaphore of its own rather than a condition variable: a thread woken from
// pthread_cond_wait takes the mutex back marked contended, so its next unlock
// is a futex system call even with nobody waiting (one per HTTP/2 stream).
struct ThreadPerConnectionQueue::Worker {
  Worker() { ::sem_init(&wake, 0, 0); }
  ~Worker() { ::sem_destroy(&wake); }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  sem_t wake;                 // posted when `job` is set or `exit` is asked
  std::function<void()> job;  // guards: State::mutex
  bool exit = false;          // guards: State::mutex
};

struct ThreadPerConnectionQueue::State {
  State(std::chrono::milliseconds idle_timeout, std::size_t max_idle, bool batch_scheduling)
      : idle_timeout(idle_timeout), max_idle(max_idle), batch_scheduling(batch_scheduling) {}

  std::mutex mutex;
  std::condition_variable changed;               // signalled whenever `live` or `threads` drops
  std::size_t live = 0;                          // connections being served; guards: mutex
  std::size_t threads = 0;                       // threads alive, serving or idle; guards: mutex
  std::vector<std::shared_ptr<Worker>> idle;     // idle threads, most recent last; guards: mutex
  const std::chrono::milliseconds idle_timeout;
  const std::size_t max_idle;
  const bool batch_scheduling;
};

namespace {

using Worker = ThreadPerConnectionQueue::Worker;
using State = ThreadPerConnectionQueue::State;

struct ThreadStart {
  std::shared_ptr<State> state;  // keeps the queue's State alive for this thread
  std::shared_ptr<Worker> worker;
};

// Waits for a post on `wake` for at most `limit`; false when the time ran out.
bool wait_for_post(sem_t& wake, std::chrono::milliseconds limit) {
  struct timespec deadline;
  ::clock_gettime(CLOCK_MONOTONIC, &deadline);
  const long long nanos = deadline.tv_nsec + (limit.count() % 1000) * 1000000LL;
  deadline.tv_sec += static_cast<time_t>(limit.count() / 1000 + nanos / 1000000000LL);
  deadline.tv_nsec = static_cast<long>(nanos % 1000000000LL);
  for (;;) {
    if (::sem_clockwait(&wake, CLOCK_MONOTONIC, &deadline) == 0) return true;
    if (errno != EINTR) return false;
  }
}

// A connection thread: serve the job it was started with, then wait idle for
// the next one until told to exit or idle for idle_timeout.
void serve_connections(State& state, const std::shared_ptr<Worker>& worker) {
  std::unique_lock<std::mutex> lock(state.mutex);
  for (;;) {
    std::function<void()> job = std::move(worker->job);
    worker->job = nullptr;
    lock.unlock();
    job();
    job = nullptr;  // release the connection's captures before reporting it done
    lock.lock();
    --state.live;
    state.changed.notify_all();

    if (state.idle.size() >= state.max_idle) break;  // enough threads wait already
    state.idle.push_back(worker);
    // A post left over from a job taken after a timeout wakes it early: it
    // finds no job and waits again.
    bool timed_out = false;
    while (!worker->job && !worker->exit && !timed_out) {
      lock.unlock();
      timed_out = !wait_for_post(worker->wake, state.idle_timeout);
      lock.lock();
    }
    if (worker->job) continue;
    // Timed out or told to exit; enqueue() can no longer pick this thread.
    auto self = std::find(state.idle.begin(), state.idle.end(), worker);
    if (self != state.idle.end()) state.idle.erase(self);
    break;
  }
  --state.threads;
  state.changed.notify_all();
}

void* connection_thread(void* arg) {
  std::unique_ptr<ThreadStart> start(static_cast<ThreadStart*>(arg));
  if (start->state->batch_scheduling) {
    use_batch_scheduling(ThreadPerConnectionQueue::kBatchSliceNanoseconds);
  }
  serve_connections(*start->state, start->worker);
  return nullptr;
}

}  // namespace

ThreadPerConnectionQueue::ThreadPerConnectionQueue(std::size_t max_connections,
                                                   std::chrono::milliseconds drain_timeout,
                                                   std::size_t stack_bytes, Scheduling scheduling,
                                                   std::chrono::milliseconds idle_timeout, std::size_t max_idle)
    : state_(std::make_shared<State>(idle_timeout, max_idle, scheduling == Scheduling::Batch)),
      max_connections_(max_connections == 0 ? 1 : max_connections),
      drain_timeout_(drain_timeout),
      stack_bytes_(stack_bytes) {}

ThreadPerConnectionQueue::~ThreadPerConnectionQueue() = default;

void ThreadPerConnectionQueue::enqueue(std::function<void()> fn) {
  std::unique_lock<std::mutex> lock(state_->mutex);
  // At the cap the accept loop waits here; new clients queue in the backlog.
  state_->changed.wait(lock, [&] { return state_->live < max_connections_; });
  ++state_->live;
  if (!state_->idle.empty()) {
    std::shared_ptr<Worker> worker = std::move(state_->idle.back());
    state_->idle.pop_back();
    worker->job = std::move(fn);
    lock.unlock();
    ::sem_post(&worker->wake);  // `worker` keeps the mailbox alive until here
    return;
  }
  ++state_->threads;
  lock.unlock();

  auto worker = std::make_shared<Worker>();
  worker->job = std::move(fn);
  auto* start = new ThreadStart{state_, worker};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes_);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, connection_thread, start);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    // Could not start a thread: run the connection inline so its socket is still closed.
    std::fprintf(stderr, "[Server] pthread_create failed (%d); serving inline\n", rc);
    delete start;
    std::function<void()> job = std::move(worker->job);
    job();
    job = nullptr;
    std::lock_guard<std::mutex> relock(state_->mutex);
    --state_->live;
    --state_->threads;
    state_->changed.notify_all();
  }
}

void ThreadPerConnectionQueue::shutdown() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  drain_timed_out_ =
      !state_->changed.wait_for(lock, drain_timeout_, [&] { return state_->live == 0; });
  for (auto& worker : state_->idle) {
    worker->exit = true;
    ::sem_post(&worker->wake);
  }
  state_->idle.clear();
  // The idle threads exit at once; wait for them so none outlives the server.
  state_->changed.wait_for(lock, drain_timeout_, [&] { return state_->threads <= state_->live; });
}

bool ThreadPerConnectionQueue::drain_timed_out() const { return drain_timed_out_; }

std::size_t ThreadPerConnectionQueue::threads() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->threads;
}

std::size_t ThreadPerConnectionQueue::idle_threads() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->idle.size();
}

}  // namespace common
