#include "common/thread_per_connection_queue.h"

#include <pthread.h>

#include <cstdio>
#include <utility>

#include "common/thread_scheduling.h"

namespace common {

namespace {

struct ThreadStart {
  std::function<void()> fn;
  std::shared_ptr<void> state;  // keeps the queue's State alive for this thread
  bool batch_scheduling;
};

}  // namespace

ThreadPerConnectionQueue::ThreadPerConnectionQueue(std::size_t max_connections,
                                                   std::chrono::milliseconds drain_timeout,
                                                   std::size_t stack_bytes, Scheduling scheduling)
    : state_(std::make_shared<State>()),
      max_connections_(max_connections == 0 ? 1 : max_connections),
      drain_timeout_(drain_timeout),
      stack_bytes_(stack_bytes),
      scheduling_(scheduling) {}

ThreadPerConnectionQueue::~ThreadPerConnectionQueue() = default;

void ThreadPerConnectionQueue::enqueue(std::function<void()> fn) {
  {
    std::unique_lock<std::mutex> lock(state_->mutex);
    // At the cap the accept loop waits here; new clients queue in the backlog.
    state_->changed.wait(lock, [&] { return state_->live < max_connections_; });
    ++state_->live;
  }

  auto* start = new ThreadStart{std::move(fn), state_, scheduling_ == Scheduling::Batch};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes_);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int rc = pthread_create(
      &thread, &attr,
      [](void* arg) -> void* {
        std::unique_ptr<ThreadStart> start(static_cast<ThreadStart*>(arg));
        if (start->batch_scheduling) use_batch_scheduling(kBatchSliceNanoseconds);
        start->fn();
        start->fn = nullptr;  // release captures before reporting completion
        auto state = std::static_pointer_cast<State>(start->state);
        {
          std::lock_guard<std::mutex> lock(state->mutex);
          --state->live;
        }
        state->changed.notify_all();
        return nullptr;
      },
      start);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    // Could not start a thread: run the connection inline so its socket is still closed.
    std::fprintf(stderr, "[Server] pthread_create failed (%d); serving inline\n", rc);
    std::unique_ptr<ThreadStart> owned(start);
    owned->fn();
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      --state_->live;
    }
    state_->changed.notify_all();
  }
}

void ThreadPerConnectionQueue::shutdown() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  drain_timed_out_ =
      !state_->changed.wait_for(lock, drain_timeout_, [&] { return state_->live == 0; });
}

bool ThreadPerConnectionQueue::drain_timed_out() const { return drain_timed_out_; }

}  // namespace common
