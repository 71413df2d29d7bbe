// The pool queue with real threads: first come first served, a place handed
// straight to the oldest waiter, a full queue and a timeout refused, a
// waiter whose client left removed, and no lost place when a limit is raised.
#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include "lb/balancing/pool_queue.h"
#include "test/support/eventually.h"
#include "test/support/healthy_backends.h"

using namespace lb;
using namespace std::chrono_literals;

namespace {

struct OneBackendPool {
  OneBackendPool(int limit) : backend(test_support::healthy_backends(1)[0]), queue(std::make_shared<PoolQueue>()) {
    backend->set_request_limit(RequestLimit{RequestLimit::Mode::Fixed, limit});
  }
  PoolQueue::Admission admit(QueueSettings settings = {}, std::function<bool()> client_gone = [] { return false; }) {
    return queue->admit(
        [this](bool& any_eligible) -> std::shared_ptr<Backend> {
          any_eligible = true;
          return backend->try_take_place() ? backend : nullptr;
        },
        [](const Backend&) { return true; }, settings, client_gone);
  }
  std::shared_ptr<Backend> backend;
  std::shared_ptr<PoolQueue> queue;
};

}  // namespace

TEST_CASE("pool queue: waiters get places in the order they came", "[pool-queue]") {
  OneBackendPool pool(1);
  REQUIRE(pool.admit().outcome == QueueOutcome::Placed);  // the only place
  std::vector<int> order;
  std::mutex order_mutex;
  std::vector<std::future<void>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(std::async(std::launch::async, [&, i] {
      const PoolQueue::Admission admission = pool.admit();
      REQUIRE(admission.outcome == QueueOutcome::Placed);
      {
        std::lock_guard<std::mutex> lock(order_mutex);
        order.push_back(i);
      }
      BackendPlace(admission.backend, pool.queue).release();
    }));
    REQUIRE(test_support::eventually([&] { return pool.queue->length() == static_cast<size_t>(i + 1); }, 5s));
  }
  BackendPlace(pool.backend, pool.queue).release();  // the first place comes free: handed down the queue
  for (auto& waiter : waiters) waiter.get();
  CHECK(order == std::vector<int>{0, 1, 2});
  CHECK(pool.backend->active_requests.load() == 0);
  CHECK(pool.queue->length() == 0);
}

TEST_CASE("pool queue: full, timed out, and a client gone are refused", "[pool-queue]") {
  OneBackendPool pool(1);
  REQUIRE(pool.admit().outcome == QueueOutcome::Placed);
  QueueSettings tiny;
  tiny.size = 1;
  tiny.timeout = 5s;
  std::atomic<bool> gone{false};
  auto waiting = std::async(std::launch::async, [&] { return pool.admit(tiny, [&] { return gone.load(); }); });
  REQUIRE(test_support::eventually([&] { return pool.queue->length() == 1; }, 5s));
  CHECK(pool.admit(tiny).outcome == QueueOutcome::Full);
  gone = true;
  CHECK(waiting.get().outcome == QueueOutcome::ClientGone);
  CHECK(pool.queue->length() == 0);

  QueueSettings quick;
  quick.timeout = 60ms;
  const PoolQueue::Admission late = pool.admit(quick);
  CHECK(late.outcome == QueueOutcome::TimedOut);
  CHECK(late.waited >= 60ms);
  CHECK(pool.backend->active_requests.load() == 1);  // nobody took the place it never got
}

TEST_CASE("pool queue: a raised limit lets the first waiter in without a hand-over", "[pool-queue]") {
  OneBackendPool pool(1);
  REQUIRE(pool.admit().outcome == QueueOutcome::Placed);
  auto waiting = std::async(std::launch::async, [&] { return pool.admit(); });
  REQUIRE(test_support::eventually([&] { return pool.queue->length() == 1; }, 5s));
  pool.backend->set_request_limit(RequestLimit{RequestLimit::Mode::Fixed, 2});
  CHECK(waiting.get().outcome == QueueOutcome::Placed);
  CHECK(pool.backend->active_requests.load() == 2);
}
