// ThreadPerConnectionQueue: one thread per task, with the scheduling policy asked for.
#include <catch2/catch.hpp>
#include <sched.h>

#include <atomic>
#include <chrono>

#include "common/thread_per_connection_queue.h"

using common::ThreadPerConnectionQueue;
using namespace std::chrono_literals;

namespace {

// The policy (SCHED_OTHER, SCHED_BATCH, ...) a task queued on `queue` runs under.
int policy_of_a_task(ThreadPerConnectionQueue& queue) {
  std::atomic<int> policy{-1};
  queue.enqueue([&policy] { policy = ::sched_getscheduler(0); });
  queue.shutdown();  // waits for the thread
  return policy.load();
}

}  // namespace

TEST_CASE("connection threads run under the scheduling policy asked for", "[unit][queue]") {
  ThreadPerConnectionQueue normal(4, 5s, 256 * 1024, ThreadPerConnectionQueue::Scheduling::Normal);
  CHECK(policy_of_a_task(normal) == SCHED_OTHER);
  ThreadPerConnectionQueue batch(4, 5s, 256 * 1024, ThreadPerConnectionQueue::Scheduling::Batch);
  CHECK(policy_of_a_task(batch) == SCHED_BATCH);
  CHECK(::sched_getscheduler(0) == SCHED_OTHER);  // the queue's caller keeps its own
}

TEST_CASE("every queued task runs on its own thread before shutdown returns", "[unit][queue]") {
  ThreadPerConnectionQueue queue(2, 5s);
  std::atomic<int> ran{0};
  for (int i = 0; i < 6; ++i) queue.enqueue([&ran] { ran.fetch_add(1); });  // more than the cap: enqueue waits
  queue.shutdown();
  CHECK(ran.load() == 6);
  CHECK_FALSE(queue.drain_timed_out());
}
