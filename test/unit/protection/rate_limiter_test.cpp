// Per-client token buckets driven by a hand-moved clock (no sleeps).
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lb/protection/rate_limiter.h"
#include "test/support/fake_clock.h"

using namespace lb;
using test_support::FakeClock;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// Every field in one string, so a failed CHECK shows the whole decision.
std::string describe(const RateDecision& d) {
  return std::string(d.allowed ? "allowed" : "refused") + " retry=" + std::to_string(d.retry_after_seconds) +
         " limit=" + std::to_string(d.limit) + " remaining=" + std::to_string(d.remaining) +
         " reset=" + std::to_string(d.reset_seconds);
}

}  // namespace

// A new client starts with a full bucket; each request takes one token, then requests are refused.
TEST_CASE("RateLimiter drains a full bucket", "[rate]") {
  FakeClock clock;
  RateLimiter limiter(1.0, 3, 100, clock.fn());
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=3 remaining=2 reset=1");
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=3 remaining=1 reset=2");
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=3 remaining=0 reset=3");
  CHECK(describe(limiter.admit("a")) == "refused retry=1 limit=3 remaining=0 reset=3");
  CHECK(describe(limiter.admit("a")) == "refused retry=1 limit=3 remaining=0 reset=3");
}

// Tokens come back continuously at `rate` and never beyond `burst`; refusals take no token.
TEST_CASE("RateLimiter refills at the rate, capped at burst", "[rate]") {
  FakeClock clock;
  RateLimiter limiter(2.0, 3, 100, clock.fn());
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=3 remaining=2 reset=1");
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=3 remaining=1 reset=1");
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=3 remaining=0 reset=2");
  CHECK(describe(limiter.admit("a")) == "refused retry=1 limit=3 remaining=0 reset=2");
  clock.now += milliseconds(250);  // half a token
  CHECK(describe(limiter.admit("a")) == "refused retry=1 limit=3 remaining=0 reset=2");
  clock.now += milliseconds(250);  // one whole token
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=3 remaining=0 reset=2");
  clock.now += seconds(1);  // two tokens
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=3 remaining=1 reset=1");
  clock.now += seconds(10);  // far more than fits: capped at 3
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=3 remaining=2 reset=1");
}

// Retry-After and Reset are whole seconds rounded up; Retry-After is never 0 and shrinks as tokens return.
TEST_CASE("RateLimiter rounds Retry-After and Reset up", "[rate]") {
  FakeClock clock;
  RateLimiter limiter(0.25, 2, 100, clock.fn());  // one token every 4 s
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=2 remaining=1 reset=4");
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=2 remaining=0 reset=8");
  CHECK(describe(limiter.admit("a")) == "refused retry=4 limit=2 remaining=0 reset=8");
  clock.now += seconds(1);
  CHECK(describe(limiter.admit("a")) == "refused retry=3 limit=2 remaining=0 reset=7");
  clock.now += milliseconds(2999);  // 1 ms short of a token
  CHECK(describe(limiter.admit("a")) == "refused retry=1 limit=2 remaining=0 reset=5");
  clock.now += milliseconds(1);
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=2 remaining=0 reset=8");
}

// Refill added in many small steps still yields whole tokens on time (ten 0.1-token steps make one token).
TEST_CASE("RateLimiter absorbs floating-point drift", "[rate]") {
  FakeClock clock;
  RateLimiter limiter(0.1, 1, 100, clock.fn());
  CHECK(limiter.admit("a").allowed);
  for (int waited = 1; waited < 10; ++waited) {
    clock.now += seconds(1);
    RateDecision decision = limiter.admit("a");  // each refusal folds 0.1 more into the bucket
    CHECK_FALSE(decision.allowed);
    CHECK(decision.retry_after_seconds == 10 - waited);
    CHECK(decision.reset_seconds == 10 - waited);
  }
  clock.now += seconds(1);
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=1 remaining=0 reset=10");
}

// Each client has its own bucket: one client's exhaustion does not affect another.
TEST_CASE("RateLimiter keeps clients apart", "[rate]") {
  FakeClock clock;
  RateLimiter limiter(1.0, 1, 100, clock.fn());
  CHECK(limiter.admit("10.0.0.1").allowed);
  CHECK_FALSE(limiter.admit("10.0.0.1").allowed);
  CHECK(limiter.admit("10.0.0.2").allowed);
  CHECK_FALSE(limiter.admit("10.0.0.2").allowed);
  CHECK(limiter.tracked_clients() == 2);
}

// A fully refilled bucket is dropped by a later admit(); its client returns to a full bucket, as it would anyway.
TEST_CASE("RateLimiter forgets idle buckets", "[rate]") {
  FakeClock clock;
  RateLimiter limiter(1.0, 2, 100, clock.fn());
  limiter.admit("a");  // 1 token left: full again after 1 s
  limiter.admit("b");
  CHECK(limiter.tracked_clients() == 2);
  clock.now += milliseconds(999);
  limiter.admit("c");
  CHECK(limiter.tracked_clients() == 3);  // a and b are 1 ms short of full
  clock.now += milliseconds(1);
  CHECK(limiter.tracked_clients() == 3);  // nothing happens without an admit()
  limiter.admit("c");
  CHECK(limiter.tracked_clients() == 1);
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=2 remaining=1 reset=1");
  CHECK(limiter.tracked_clients() == 2);
}

// At max_clients an idle bucket is dropped first, even one that is not the least recently seen.
TEST_CASE("RateLimiter at capacity drops idle buckets first", "[rate]") {
  FakeClock clock;
  RateLimiter limiter(1.0, 10, 2, clock.fn());
  for (int i = 0; i < 10; ++i) limiter.admit("a");  // empty: full again only after 10 s
  clock.now += seconds(1);
  limiter.admit("b");  // 9 tokens: full again after 1 s
  clock.now += seconds(2);
  CHECK(limiter.admit("c").allowed);  // b is idle, a (least recently seen) is not
  CHECK(limiter.tracked_clients() == 2);
  // a's debt survived: 3 s of refill, not a fresh bucket of 10.
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=10 remaining=2 reset=8");
}

// At max_clients with nothing idle, the least recently seen client is forgotten and starts afresh when it returns.
TEST_CASE("RateLimiter at capacity forgets the least recently seen", "[rate]") {
  FakeClock clock;
  RateLimiter limiter(1.0, 2, 2, clock.fn());
  limiter.admit("a");
  limiter.admit("b");
  limiter.admit("a");  // a is empty; b is now the least recently seen
  CHECK(describe(limiter.admit("c")) == "allowed retry=0 limit=2 remaining=1 reset=1");  // forgets b
  CHECK(limiter.tracked_clients() == 2);
  CHECK(describe(limiter.admit("a")) == "refused retry=1 limit=2 remaining=0 reset=2");  // a kept its state
  CHECK(describe(limiter.admit("b")) == "allowed retry=0 limit=2 remaining=1 reset=1");  // fresh; forgets c
  CHECK(describe(limiter.admit("c")) == "allowed retry=0 limit=2 remaining=1 reset=1");  // fresh; forgets a
  CHECK(describe(limiter.admit("a")) == "allowed retry=0 limit=2 remaining=1 reset=1");
  CHECK(limiter.tracked_clients() == 2);
}

// However many distinct clients arrive at once, the table never holds more than max_clients.
TEST_CASE("RateLimiter memory stays bounded", "[rate]") {
  FakeClock clock;
  RateLimiter limiter(1.0, 5, 100, clock.fn());
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(limiter.admit("client-" + std::to_string(i)).allowed);
    REQUIRE(limiter.tracked_clients() == std::min<std::size_t>(100, static_cast<std::size_t>(i) + 1));
  }
  clock.now += seconds(1);  // every bucket is full again
  limiter.admit("late");
  CHECK(limiter.tracked_clients() == 1);
}

// Settings outside rate > 0, burst >= 1, max_clients >= 1 are rejected at construction.
TEST_CASE("RateLimiter rejects bad settings", "[rate]") {
  CHECK_THROWS_AS(RateLimiter(0, 1), std::invalid_argument);
  CHECK_THROWS_AS(RateLimiter(-1, 1), std::invalid_argument);
  CHECK_THROWS_AS(RateLimiter(std::nan(""), 1), std::invalid_argument);
  CHECK_THROWS_AS(RateLimiter(1, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(RateLimiter(1, 1, 0), std::invalid_argument);
  CHECK_THROWS_AS(RateLimiter(1, 1, 1, SteadyClock{}), std::invalid_argument);
  RateLimiter real_clock(1, 1);  // the default clock works too
  CHECK(real_clock.admit("a").allowed);
}

// Concurrent requests take exactly `burst` tokens while time stands still, per client.
TEST_CASE("RateLimiter is exact under concurrency", "[rate]") {
  FakeClock clock;
  RateLimiter limiter(1.0, 1000, 100, clock.fn());
  std::atomic<int> shared_allowed{0};
  std::vector<std::atomic<int>> own_allowed(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (limiter.admit("shared").allowed) ++shared_allowed;
        if (limiter.admit("own-" + std::to_string(t)).allowed) ++own_allowed[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(shared_allowed == 1000);
  for (auto& count : own_allowed) CHECK(count == 500);
  CHECK(limiter.tracked_clients() == 9);
}

// peek() says what admit() would, and takes nothing: basic auth asks before a hash and charges after a failure.
TEST_CASE("RateLimiter peek takes no token", "[rate]") {
  FakeClock clock;
  RateLimiter limiter(1.0, 2, 100, clock.fn());
  CHECK(describe(limiter.peek("a")) == "allowed retry=0 limit=2 remaining=2 reset=0");
  CHECK(describe(limiter.peek("a")) == "allowed retry=0 limit=2 remaining=2 reset=0");
  limiter.admit("a");
  limiter.admit("a");
  CHECK_FALSE(limiter.peek("a").allowed);
  clock.now += seconds(1);
  CHECK(limiter.peek("a").allowed);
  CHECK(limiter.peek("a").allowed);
  CHECK(limiter.admit("a").allowed);
  CHECK_FALSE(limiter.peek("a").allowed);
}
