// --rate-limit-redis redis://host:port[/db]: the per-client token buckets live
// in Redis, so every instance pointed at the same Redis enforces one limit.
//
// One Lua script per request refills and takes a token atomically, on Redis's
// own clock (every instance agrees on the time). When Redis does not answer
// within 50 ms, or refuses, the request is decided by this instance's own
// buckets instead: logged once when Redis goes away and once when it answers
// again (tried at most once a second meanwhile), and each such decision counted.
#pragma once

#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "lb/protection/rate_limiter.h"

namespace lb {

struct RedisAddress {
  std::string host;
  int port = 6379;
  int db = 0;
};

// "redis://host:port[/db]" (port default 6379). Throws std::invalid_argument.
RedisAddress parse_redis_url(const std::string& url);

class RedisRateLimiter : public ClientLimiter {
 public:
  // `local_decisions`: counts requests decided locally because Redis did not answer.
  RedisRateLimiter(const std::string& url, double rate, double burst, std::atomic<uint64_t>* local_decisions);
  ~RedisRateLimiter() override;
  RedisRateLimiter(const RedisRateLimiter&) = delete;
  RedisRateLimiter& operator=(const RedisRateLimiter&) = delete;

  RateDecision admit(const std::string& client_key) override;
  double rate() const override { return rate_; }
  double burst() const override { return burst_; }
  std::string store() const override { return url_; }

 private:
  // Runs the script for `client_key` on a pooled connection; false when Redis did not answer.
  bool ask_redis(const std::string& client_key, RateDecision& decision);
  redisContext* connect();
  void went_down(const std::string& why);

  const std::string url_;
  const RedisAddress address_;
  const double rate_;
  const double burst_;
  std::atomic<uint64_t>* const local_decisions_;
  RateLimiter local_;  // the fallback buckets
  std::string script_sha_;  // SHA-1 of the script, for EVALSHA

  std::mutex mutex_;  // held only to take or give back a connection (never over I/O)
  std::vector<redisContext*> idle_;  // guards: mutex_
  std::atomic<int64_t> retry_at_{0};  // steady_clock ticks; while in the future, Redis is not asked
  std::atomic<bool> down_{false};     // Redis is away (logged once)
};

}  // namespace lb
