// The shared rate limit's pure parts: its URL, and the decision it shares with
// the local buckets; and its fallback when nothing listens at the URL.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>

#include "lb/protection/redis_rate_limiter.h"

using namespace lb;

TEST_CASE("redis:// URLs", "[rate-limit][redis]") {
  RedisAddress plain = parse_redis_url("redis://10.0.0.9");
  CHECK(plain.host == "10.0.0.9");
  CHECK(plain.port == 6379);
  CHECK(plain.db == 0);
  RedisAddress full = parse_redis_url("redis://cache.internal:6380/2");
  CHECK(full.host == "cache.internal");
  CHECK(full.port == 6380);
  CHECK(full.db == 2);
  for (const char* bad : {"http://a:1", "redis://", "redis://:6379", "redis://a:0", "redis://a:70000", "redis://a:x",
                          "redis://a/", "redis://a/x", "redis://a/100"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_redis_url(bad), std::invalid_argument);
  }
}

// The numbers a 429 and the RateLimit-* headers carry, from a bucket's state.
TEST_CASE("decision_after: the headers from a bucket's state", "[rate-limit]") {
  RateDecision taken = decision_after(true, 4.5, 2, 10);
  CHECK(taken.allowed);
  CHECK(taken.limit == 10);
  CHECK(taken.remaining == 4);
  CHECK(taken.reset_seconds == 3);  // 5.5 tokens at 2/s
  RateDecision refused = decision_after(false, 0.25, 0.5, 5);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after_seconds == 2);  // 0.75 tokens at 0.5/s: 1.5 s, rounded up
  CHECK(refused.reset_seconds == 10);
}

// Nothing listens on port 1: every request is decided by the local buckets,
// with the same answers, and counted.
TEST_CASE("Redis unreachable: the local buckets decide", "[rate-limit][redis]") {
  std::atomic<uint64_t> local_decisions{0};
  RedisRateLimiter limiter("redis://127.0.0.1:1", 0.001, 3, &local_decisions);
  int allowed = 0;
  for (int i = 0; i < 5; ++i) allowed += limiter.admit("10.0.0.7").allowed ? 1 : 0;
  CHECK(allowed == 3);
  CHECK(limiter.admit("10.0.0.8").allowed);  // another client, another bucket
  CHECK(local_decisions == 6);
  CHECK(limiter.store() == "redis://127.0.0.1:1");
}
