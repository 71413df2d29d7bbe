#include "lb/protection/redis_rate_limiter.h"

#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "common/log.h"

namespace lb {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kRedisTimeout{50};
constexpr std::chrono::seconds kRetryAfterFailure{1};

// KEYS[1]: the bucket; ARGV: rate (tokens/s), burst. Returns {taken (0/1), tokens left}.
constexpr char kTokenBucketScript[] = R"lua(
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate) end
local taken = 0
if tokens >= 1 - 1e-9 then
  tokens = math.max(0, tokens - 1)
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {taken, tostring(tokens)}
)lua";

std::string sha1_hex(const std::string& text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  char hex[2 * SHA_DIGEST_LENGTH + 1];
  for (int i = 0; i < SHA_DIGEST_LENGTH; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return hex;
}

struct timeval as_timeval(std::chrono::milliseconds timeout) {
  return {static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
}

std::string describe(const redisContext* context) {
  return context && context->err ? context->errstr : "no connection";
}

}  // namespace

RedisAddress parse_redis_url(const std::string& url) {
  const std::string scheme = "redis://";
  if (url.rfind(scheme, 0) != 0) throw std::invalid_argument("'" + url + "' must start with redis://");
  std::string rest = url.substr(scheme.size());
  RedisAddress address;
  const size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    const std::string db = rest.substr(slash + 1);
    if (db.empty() || db.size() > 2 || db.find_first_not_of("0123456789") != std::string::npos) {
      throw std::invalid_argument("'" + url + "': the database must be a number 0-99");
    }
    address.db = std::atoi(db.c_str());
    rest = rest.substr(0, slash);
  }
  const size_t colon = rest.rfind(':');
  address.host = rest.substr(0, colon);
  if (colon != std::string::npos) {
    const std::string port = rest.substr(colon + 1);
    address.port = port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos
                       ? -1
                       : std::atoi(port.c_str());
    if (address.port < 1 || address.port > 65535) throw std::invalid_argument("'" + url + "': bad port");
  }
  if (address.host.empty()) throw std::invalid_argument("'" + url + "': no host");
  return address;
}

RedisRateLimiter::RedisRateLimiter(const std::string& url, double rate, double burst,
                                   std::atomic<uint64_t>* local_decisions)
    : url_(url),
      address_(parse_redis_url(url)),
      rate_(rate),
      burst_(burst),
      local_decisions_(local_decisions),
      local_(rate, burst),
      script_sha_(sha1_hex(kTokenBucketScript)) {}

RedisRateLimiter::~RedisRateLimiter() {
  for (redisContext* context : idle_) redisFree(context);
}

RateDecision RedisRateLimiter::admit(const std::string& client_key) {
  RateDecision decision{};
  if (Clock::now().time_since_epoch().count() >= retry_at_.load(std::memory_order_relaxed) &&
      ask_redis(client_key, decision)) {
    if (down_.exchange(false)) common::log_line("[Rate Limit] Redis at " + url_ + " answers again: shared limits");
    return decision;
  }
  if (local_decisions_) local_decisions_->fetch_add(1, std::memory_order_relaxed);
  return local_.admit(client_key);
}

redisContext* RedisRateLimiter::connect() {
  redisContext* context = redisConnectWithTimeout(address_.host.c_str(), address_.port, as_timeval(kRedisTimeout));
  if (!context || context->err) {
    went_down(describe(context));
    if (context) redisFree(context);
    return nullptr;
  }
  redisSetTimeout(context, as_timeval(kRedisTimeout));
  if (address_.db != 0) {
    auto* reply = static_cast<redisReply*>(redisCommand(context, "SELECT %d", address_.db));
    const bool selected = reply && reply->type == REDIS_REPLY_STATUS;
    if (reply) freeReplyObject(reply);
    if (!selected) {
      went_down("SELECT " + std::to_string(address_.db) + " failed");
      redisFree(context);
      return nullptr;
    }
  }
  return context;
}

bool RedisRateLimiter::ask_redis(const std::string& client_key, RateDecision& decision) {
  redisContext* context = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      context = idle_.back();
      idle_.pop_back();
    }
  }
  if (!context && !(context = connect())) return false;

  const std::string key = "lb:rate:" + client_key;
  const std::string rate = std::to_string(rate_), burst = std::to_string(burst_);
  auto* reply = static_cast<redisReply*>(
      redisCommand(context, "EVALSHA %s 1 %b %s %s", script_sha_.c_str(), key.data(), key.size(), rate.c_str(),
                   burst.c_str()));
  if (reply && reply->type == REDIS_REPLY_ERROR && std::string(reply->str).rfind("NOSCRIPT", 0) == 0) {
    freeReplyObject(reply);  // a fresh or restarted Redis: send the script itself once
    reply = static_cast<redisReply*>(
        redisCommand(context, "EVAL %s 1 %b %s %s", kTokenBucketScript, key.data(), key.size(), rate.c_str(),
                     burst.c_str()));
  }
  const bool answered = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
                        reply->element[0]->type == REDIS_REPLY_INTEGER && reply->element[1]->type == REDIS_REPLY_STRING;
  if (answered) {
    decision = decision_after(reply->element[0]->integer == 1, std::atof(reply->element[1]->str), rate_, burst_);
  } else {
    went_down(!reply ? describe(context) : reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
  }
  if (reply) freeReplyObject(reply);
  if (answered && context->err == 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(context);
  } else {
    redisFree(context);
  }
  return answered;
}

void RedisRateLimiter::went_down(const std::string& why) {
  retry_at_.store((Clock::now() + kRetryAfterFailure).time_since_epoch().count(), std::memory_order_relaxed);
  if (!down_.exchange(true)) {
    common::log_line("[Rate Limit] Redis at " + url_ + " unreachable (" + why + "): local limits until it answers");
  }
}

}  // namespace lb
