// ThreadPerConnectionQueue: one thread per task, with the scheduling policy asked for.
#include <catch2/catch.hpp>
#include <sched.h>
#include <sys/utsname.h>

#include <atomic>
#include <chrono>
#include <cstdio>

#include "common/thread_per_connection_queue.h"
#include "common/thread_scheduling.h"

using common::ThreadPerConnectionQueue;
using namespace std::chrono_literals;

namespace {

// How a task queued on `queue` is scheduled.
common::ThreadScheduling scheduling_of_a_task(ThreadPerConnectionQueue& queue) {
  common::ThreadScheduling seen;
  queue.enqueue([&seen] { seen = common::current_thread_scheduling(); });
  queue.shutdown();  // waits for the thread
  return seen;
}

// Custom slices for normal-priority threads came with Linux 6.12.
bool kernel_has_custom_slices() {
  struct utsname name {};
  int major = 0, minor = 0;
  return ::uname(&name) == 0 && std::sscanf(name.release, "%d.%d", &major, &minor) == 2 &&
         (major > 6 || (major == 6 && minor >= 12));
}

}  // namespace

TEST_CASE("connection threads run under the scheduling policy asked for", "[unit][queue]") {
  ThreadPerConnectionQueue normal(4, 5s, 256 * 1024, ThreadPerConnectionQueue::Scheduling::Normal);
  CHECK(scheduling_of_a_task(normal).policy == SCHED_OTHER);
  ThreadPerConnectionQueue batch(4, 5s, 256 * 1024, ThreadPerConnectionQueue::Scheduling::Batch);
  common::ThreadScheduling batched = scheduling_of_a_task(batch);
  CHECK(batched.policy == SCHED_BATCH);
  if (kernel_has_custom_slices()) CHECK(batched.slice_ns == ThreadPerConnectionQueue::kBatchSliceNanoseconds);
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
