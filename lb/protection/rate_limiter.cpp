#include "lb/protection/rate_limiter.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <stdexcept>

namespace lb {

namespace {

// Absorbs floating-point noise so 0.999999999 tokens still counts as one and
// exactly 2.0 seconds never rounds up to 3.
constexpr double kEpsilon = 1e-9;
// Caps every duration we derive (about 31 years) so tiny rates cannot overflow.
constexpr double kMaxSeconds = 1e9;

int round_down(double x) { return static_cast<int>(std::min(std::floor(x + kEpsilon), double{INT_MAX})); }
int round_up(double x) { return static_cast<int>(std::min(std::ceil(x - kEpsilon), double{INT_MAX})); }

std::chrono::steady_clock::duration after(double seconds) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(std::min(seconds, kMaxSeconds)));
}

}  // namespace

RateDecision decision_after(bool allowed, double tokens, double rate, double burst) {
  RateDecision decision{};
  decision.allowed = allowed;
  decision.limit = round_down(burst);
  if (allowed) {
    decision.remaining = round_down(tokens);
  } else {
    decision.retry_after_seconds = std::max(1, round_up((1.0 - tokens) / rate));
  }
  decision.reset_seconds = round_up((burst - tokens) / rate);
  return decision;
}

RateLimiter::RateLimiter(double rate, double burst, std::size_t max_clients, SteadyClock clock)
    : rate_(rate), burst_(burst), max_clients_(max_clients), clock_(std::move(clock)) {
  // Written so NaN fails too.
  if (!(rate > 0) || !std::isfinite(rate)) throw std::invalid_argument("rate limit must be a positive number");
  if (!(burst >= 1) || !std::isfinite(burst)) throw std::invalid_argument("rate burst must be at least 1");
  if (max_clients < 1) throw std::invalid_argument("rate limiter max_clients must be at least 1");
  if (!clock_) throw std::invalid_argument("rate limiter needs a clock");
}

RateDecision RateLimiter::admit(const std::string& client_key) { return decide(client_key, true); }

RateDecision RateLimiter::peek(const std::string& client_key) { return decide(client_key, false); }

RateDecision RateLimiter::decide(const std::string& client_key, bool take) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Read inside the lock so one bucket never sees time go backwards.
  const TimePoint now = clock_();
  drop_idle_tail(now);
  Bucket& bucket = find_or_add(client_key, now);

  if (now > bucket.updated) {
    double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(burst_, bucket.tokens + elapsed * rate_);
    bucket.updated = now;
  }

  const bool allowed = bucket.tokens >= 1.0 - kEpsilon;
  if (allowed && take) bucket.tokens = std::max(0.0, bucket.tokens - 1.0);
  bucket.full_at = now + after((burst_ - bucket.tokens) / rate_);
  earliest_full_at_ = std::min(earliest_full_at_, bucket.full_at);
  return decision_after(allowed, bucket.tokens, rate_, burst_);
}

std::size_t RateLimiter::tracked_clients() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return index_.size();
}

// Moves the client to the most-recently-seen end, creating a full bucket if new.
RateLimiter::Bucket& RateLimiter::find_or_add(const std::string& client_key, TimePoint now) {
  auto found = index_.find(client_key);
  if (found != index_.end()) {
    lru_.splice(lru_.begin(), lru_, found->second);
    return lru_.front();
  }
  if (index_.size() >= max_clients_) make_room(now);
  lru_.push_front(Bucket{client_key, burst_, now, now});
  index_.emplace(lru_.front().key, lru_.begin());
  return lru_.front();
}

// Each bucket is dropped at most once after being added, so this is amortised
// O(1). It stops at the first busy bucket: idle ones seen more recently wait
// for a later call or for make_room().
void RateLimiter::drop_idle_tail(TimePoint now) {
  while (!lru_.empty() && lru_.back().full_at <= now) erase(std::prev(lru_.end()));
}

// Table full: drop every idle bucket; if none was idle, forget the least
// recently seen client. The full sweep runs only once some bucket can have
// become idle (earliest_full_at_), so a flood of new clients does not scan the
// whole table on every request.
void RateLimiter::make_room(TimePoint now) {
  if (now >= earliest_full_at_) {
    TimePoint earliest = TimePoint::max();
    for (auto it = lru_.begin(); it != lru_.end();) {
      auto next = std::next(it);
      if (it->full_at <= now) {
        erase(it);
      } else {
        earliest = std::min(earliest, it->full_at);
      }
      it = next;
    }
    earliest_full_at_ = earliest;
  }
  while (index_.size() >= max_clients_) erase(std::prev(lru_.end()));
}

void RateLimiter::erase(Lru::iterator it) {
  index_.erase(it->key);  // first: the map's key is a view of it->key
  lru_.erase(it);
}

}  // namespace lb
