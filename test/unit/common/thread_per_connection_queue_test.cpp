// ThreadPerConnectionQueue: one thread per task while it runs, with the scheduling policy
// asked for; finished threads wait idle for the next task and are trimmed after idle_timeout.
#include <catch2/catch.hpp>
#include <sched.h>
#include <sys/utsname.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include "common/thread_per_connection_queue.h"
#include "common/thread_scheduling.h"
#include "test/support/eventually.h"

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

TEST_CASE("a finished task's thread serves the next task instead of a new thread", "[unit][queue]") {
  ThreadPerConnectionQueue queue(4, 5s);
  std::thread::id first, second;
  queue.enqueue([&first] { first = std::this_thread::get_id(); });
  REQUIRE(test_support::eventually([&] { return queue.idle_threads() == 1; }));
  queue.enqueue([&second] { second = std::this_thread::get_id(); });
  REQUIRE(test_support::eventually([&] { return queue.idle_threads() == 1; }));
  CHECK(queue.threads() == 1);
  queue.shutdown();
  CHECK(first == second);
  CHECK(queue.threads() == 0);  // shutdown lets the idle threads exit
}

TEST_CASE("threads grow with concurrent tasks, up to the cap, and exit after idle_timeout", "[unit][queue]") {
  ThreadPerConnectionQueue queue(3, 5s, 256 * 1024, ThreadPerConnectionQueue::Scheduling::Normal, 2s);
  std::mutex mutex;
  std::condition_variable changed;
  int running = 0, most_at_once = 0;  // guards: mutex
  bool release = false;               // guards: mutex
  std::set<std::thread::id> ids;      // guards: mutex
  auto task = [&] {
    std::unique_lock<std::mutex> lock(mutex);
    ids.insert(std::this_thread::get_id());
    most_at_once = std::max(most_at_once, ++running);
    changed.notify_all();
    changed.wait(lock, [&] { return release; });
    --running;
  };
  for (int i = 0; i < 3; ++i) queue.enqueue(task);
  {
    std::unique_lock<std::mutex> lock(mutex);
    REQUIRE(changed.wait_for(lock, 5s, [&] { return running == 3; }));
  }
  CHECK(queue.threads() == 3);
  CHECK(queue.idle_threads() == 0);
  std::thread fourth([&] { queue.enqueue(task); });  // over the cap: waits for a thread
  {
    std::lock_guard<std::mutex> lock(mutex);
    release = true;
  }
  changed.notify_all();
  fourth.join();
  REQUIRE(test_support::eventually([&] { return queue.idle_threads() == 3; }));
  CHECK(queue.threads() == 3);  // the fourth task reused one of the three
  CHECK(most_at_once == 3);
  CHECK(ids.size() == 3);
  // Idle for 2 s, each thread exits.
  CHECK(test_support::eventually([&] { return queue.threads() == 0; }, 5s));
  queue.shutdown();
}

TEST_CASE("beyond max_idle idle threads, a finished task's thread exits at once", "[unit][queue]") {
  ThreadPerConnectionQueue queue(8, 5s, 256 * 1024, ThreadPerConnectionQueue::Scheduling::Normal, 60s, 2);
  std::mutex mutex;
  std::condition_variable changed;
  int running = 0;       // guards: mutex
  bool release = false;  // guards: mutex
  auto task = [&] {
    std::unique_lock<std::mutex> lock(mutex);
    ++running;
    changed.notify_all();
    changed.wait(lock, [&] { return release; });
  };
  for (int i = 0; i < 5; ++i) queue.enqueue(task);
  {
    std::unique_lock<std::mutex> lock(mutex);
    REQUIRE(changed.wait_for(lock, 5s, [&] { return running == 5; }));
    release = true;
  }
  changed.notify_all();
  // Long before the 60 s idle timeout: three threads are gone, two wait.
  REQUIRE(test_support::eventually([&] { return queue.threads() == 2; }));
  CHECK(queue.idle_threads() == 2);
  queue.shutdown();
  CHECK(queue.threads() == 0);
}
