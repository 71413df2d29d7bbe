// Selection algorithms: exact orders and counts on hand-made backends.
#include <catch2/catch.hpp>

#include <map>
#include <thread>

#include "lb/balancing/least_connections_selector.h"
#include "lb/balancing/pool_queue.h"
#include "lb/balancing/round_robin_selector.h"
#include "test/support/healthy_backends.h"

using namespace lb;

namespace {

BackendList make_backends(std::initializer_list<int> weights) { return test_support::healthy_backends(weights); }

std::string sequence(Selector& selector, const BackendList& backends, int picks) {
  std::string out;
  for (int i = 0; i < picks; ++i) {
    auto chosen = selector.pick({});
    if (!chosen) {
      out += '-';
      continue;
    }
    for (size_t j = 0; j < backends.size(); ++j) {
      if (chosen == backends[j]) out += static_cast<char>('a' + j);
    }
  }
  return out;
}

}  // namespace

// Equal weights cycle in the order given: 8001, 8002, 8003, 8001, ...
TEST_CASE("round-robin with equal weights is the plain cycle", "[selector]") {
  auto backends = make_backends({1, 1, 1});
  RoundRobinSelector selector(backends);
  CHECK(sequence(selector, backends, 7) == "abcabca");
}

// Unhealthy backends are skipped and the cycle continues over the others.
TEST_CASE("round-robin skips unhealthy backends", "[selector]") {
  auto backends = make_backends({1, 1, 1});
  RoundRobinSelector selector(backends);
  backends[1]->record_check(false, "connection refused");
  CHECK(sequence(selector, backends, 6) == "acacac");
  backends[0]->record_check(false, "connection refused");
  backends[2]->record_check(false, "connection refused");
  CHECK(selector.pick({}) == nullptr);
}

// Smooth weighted round-robin interleaves: 5,1,1 gives a a b a c a a, never a burst.
TEST_CASE("smooth weighted round-robin sequences", "[selector]") {
  {
    auto backends = make_backends({5, 1, 1});
    RoundRobinSelector selector(backends);
    CHECK(sequence(selector, backends, 14) == "aabacaaaabacaa");
  }
  {
    auto backends = make_backends({3, 1});
    RoundRobinSelector selector(backends);
    CHECK(sequence(selector, backends, 8) == "aabaaaba");
  }
  {
    auto backends = make_backends({2, 3});
    RoundRobinSelector selector(backends);
    CHECK(sequence(selector, backends, 10) == "babab" "babab");
  }
}

// A backend that was down and comes back gets its share again, without a catch-up burst
// (or a drought), also with unequal weights.
TEST_CASE("weighted round-robin: recovery causes no burst", "[selector]") {
  auto backends = make_backends({1, 1, 1});
  RoundRobinSelector selector(backends);
  backends[2]->record_check(false, "down");
  sequence(selector, backends, 10);
  backends[2]->record_check(true, "200");
  CHECK(sequence(selector, backends, 9) == "abcabcabc");  // the cycle restarts in order

  auto weighted = make_backends({5, 1, 1});
  RoundRobinSelector smooth(weighted);
  weighted[0]->record_check(false, "down");
  CHECK(sequence(smooth, weighted, 4) == "bcbc");
  weighted[0]->record_check(true, "200");
  CHECK(sequence(smooth, weighted, 7) == "aabacaa");
}

// Retries never go back to a backend the request already failed on.
TEST_CASE("selectors honour the avoid list", "[selector]") {
  auto backends = make_backends({1, 1});
  RoundRobinSelector rr(backends);
  LeastConnectionsSelector lc(backends);
  SelectionContext context;
  context.avoid.push_back(backends[0].get());
  for (int i = 0; i < 4; ++i) {
    CHECK(rr.pick(context) == backends[1]);
    CHECK(lc.pick(context) == backends[1]);
  }
  context.avoid.push_back(backends[1].get());
  CHECK(rr.pick(context) == nullptr);
  CHECK(lc.pick(context) == nullptr);
}

// Least connections picks the fewest in-flight requests per weight, ties in rotation.
TEST_CASE("least connections: fewest active, ties round-robin", "[selector]") {
  auto backends = make_backends({1, 1, 1});
  LeastConnectionsSelector selector(backends);
  CHECK(sequence(selector, backends, 6) == "abcabc");  // all idle: rotate, not list order

  const BackendPlace busy_a = BackendPlace::take(backends[0]);
  const BackendPlace busy_b = BackendPlace::take(backends[1]);
  CHECK(sequence(selector, backends, 3) == "ccc");
  {
    const BackendPlace busy_c1 = BackendPlace::take(backends[2]);
    const BackendPlace busy_c2 = BackendPlace::take(backends[2]);
    CHECK(sequence(selector, backends, 2) == "ab");
  }
}

// Weighted least connections compares active/weight.
TEST_CASE("least connections respects weights", "[selector]") {
  auto backends = make_backends({3, 1});
  LeastConnectionsSelector selector(backends);
  const BackendPlace a1 = BackendPlace::take(backends[0]);
  const BackendPlace a2 = BackendPlace::take(backends[0]);
  // a: 2/3 < b would be 0/1 -> b wins (0 < 2/3)
  CHECK(selector.pick({}) == backends[1]);
  const BackendPlace b1 = BackendPlace::take(backends[1]);
  // a: 2/3 < b: 1/1 -> a wins
  CHECK(selector.pick({}) == backends[0]);
}

// A request's place counts exactly once, even when an exception unwinds it.
TEST_CASE("a backend place never leaks a count", "[selector]") {
  auto backends = make_backends({1});
  try {
    const BackendPlace guard = BackendPlace::take(backends[0]);
    CHECK(backends[0]->active_requests.load() == 1);
    throw std::runtime_error("backend timed out");
  } catch (const std::runtime_error&) {
  }
  CHECK(backends[0]->active_requests.load() == 0);
  CHECK(backends[0]->requests_total.load() == 1);
}

// Many threads picking at once still get an exact even split (the lock serialises picks).
TEST_CASE("round-robin under concurrent callers gives exact counts", "[selector]") {
  auto backends = make_backends({1, 1, 1, 1});
  RoundRobinSelector selector(backends);
  constexpr int kThreads = 8, kPicks = 3000;
  std::vector<std::map<Backend*, int>> counts(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPicks; ++i) ++counts[t][selector.pick({}).get()];
    });
  }
  for (auto& thread : threads) thread.join();
  std::map<Backend*, int> total;
  for (auto& per_thread : counts) {
    for (auto& [backend, n] : per_thread) total[backend] += n;
  }
  REQUIRE(total.size() == 4);
  for (auto& backend : backends) CHECK(total[backend.get()] == kThreads * kPicks / 4);
}

// make_selector knows both algorithms and rejects others.
TEST_CASE("make_selector by name", "[selector]") {
  auto backends = make_backends({1});
  CHECK(std::string(make_selector("round-robin", backends)->name()) == "round-robin");
  CHECK(std::string(make_selector("least-connections", backends)->name()) == "least-connections");
  CHECK_THROWS_AS(make_selector("random", backends), std::invalid_argument);
}
