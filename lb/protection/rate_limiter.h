// Per-client token buckets for --rate-limit / --rate-burst (pure logic, injected clock).
//
// Each client key (normally the client IP, see trusted_proxies.h) owns a bucket
// of `burst` tokens that refills at `rate` tokens per second; a request takes one
// token or is refused with how long to wait. A new client starts with a full bucket.
//
// Memory stays bounded without a background thread: a bucket that has refilled
// completely is "idle" and is indistinguishable from a new client's bucket, so
// forgetting it changes no decision. Idle buckets are dropped lazily inside
// admit(): from the least recently seen end of an LRU list on every call
// (amortised O(1)), and by a full sweep when the table is at `max_clients`.
// Only when the table is full and nothing is idle is the least recently seen
// client forgotten; it then gets a fresh bucket when it returns (a little
// leniency for one client, rather than refusing every new client).
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lb/protection/steady_clock.h"

namespace lb {

// The verdict on one request, with what 429 / RateLimit-* headers need.
struct RateDecision {
  bool allowed;
  int retry_after_seconds;  // whole seconds, >= 1 when !allowed (0 when allowed)
  int limit;                // burst size (RateLimit-Limit)
  int remaining;            // whole tokens left after this request (RateLimit-Remaining)
  int reset_seconds;        // seconds until the bucket is full again, rounded up (RateLimit-Reset)
};

// The decision once a bucket has been brought up to date: `allowed` when a
// token was taken, `tokens` what is left. Shared by the local buckets below
// and the Redis ones (redis_rate_limiter.h), so both answer alike.
RateDecision decision_after(bool allowed, double tokens, double rate, double burst);

// Per-client limits, kept in this process (RateLimiter) or shared (RedisRateLimiter).
class ClientLimiter {
 public:
  virtual ~ClientLimiter() = default;
  // Takes one token from `client_key`'s bucket, or refuses. Thread-safe.
  virtual RateDecision admit(const std::string& client_key) = 0;
  virtual double rate() const = 0;
  virtual double burst() const = 0;
  virtual std::string store() const { return ""; }  // "" here; the Redis URL when shared
};

class RateLimiter : public ClientLimiter {
 public:
  // rate: tokens per second (> 0); burst: bucket size (>= 1); max_clients: cap
  // on tracked buckets (>= 1). Throws std::invalid_argument otherwise.
  RateLimiter(double rate, double burst, std::size_t max_clients = 100000,
              SteadyClock clock = std::chrono::steady_clock::now);

  RateDecision admit(const std::string& client_key) override;
  // What admit() would say, without taking a token: a bucket that counts
  // failures (basic auth) is asked before the work and charged after it.
  RateDecision peek(const std::string& client_key);
  // Buckets held now; idle ones may linger until a later admit() drops them.
  std::size_t tracked_clients() const;
  double rate() const override { return rate_; }
  double burst() const override { return burst_; }

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Bucket {
    std::string key;
    double tokens;      // fractional: refill is continuous
    TimePoint updated;  // when `tokens` was last brought up to date (= last seen)
    TimePoint full_at;  // from then on the bucket is idle (full again)
  };
  using Lru = std::list<Bucket>;  // a list so map entries and key views stay valid

  RateDecision decide(const std::string& client_key, bool take);
  Bucket& find_or_add(const std::string& client_key, TimePoint now);
  void drop_idle_tail(TimePoint now);
  void make_room(TimePoint now);
  void erase(Lru::iterator it);

  const double rate_;
  const double burst_;
  const std::size_t max_clients_;
  const SteadyClock clock_;

  mutable std::mutex mutex_;
  Lru lru_;  // guards: mutex_; front = most recently seen
  std::unordered_map<std::string_view, Lru::iterator> index_;  // guards: mutex_; keys view Bucket::key
  TimePoint earliest_full_at_ = TimePoint::max();  // guards: mutex_; no bucket is idle before this
};

}  // namespace lb
