#include "lb/balancing/backend.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>

namespace lb {

namespace {

// First 6 bytes of SHA-256(url) in hex, of "pool url" outside the pool
// "default" (one URL may serve in two pools): stable across restarts and instances.
std::string id_for(const std::string& pool, const std::string& url) {
  const std::string key = pool == "default" ? url : pool + " " + url;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  char hex[13];
  for (int i = 0; i < 6; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return hex;
}

// The Host a client would have sent for this backend's URL (RFC 9110 7.2):
// IPv6 literals in brackets, the scheme's default port left out.
std::string host_header_for(const BackendSpec& spec) {
  std::string host = spec.host.find(':') != std::string::npos ? "[" + spec.host + "]" : spec.host;
  const uint16_t default_port = spec.scheme == "https" ? 443 : 80;
  return spec.port == default_port ? host : host + ":" + std::to_string(spec.port);
}

}  // namespace

Backend::Backend(BackendSpec backend_spec, const BackendSettings& settings, std::string pool,
                 bool joins_at_runtime)
    : spec(std::move(backend_spec)),
      pool_name(std::move(pool)),
      url(spec.url()),
      id(id_for(pool_name, url)),
      host_header(host_header_for(spec)),
      slow_start_(Clock::duration(settings.slow_start).count()),
      checked_before_(joins_at_runtime),
      health_(settings.rise, settings.fall),
      idle_connections_(settings.max_idle_connections, settings.max_idle_time),
      passive_(settings.circuit),
      latency_(settings.latency_decay) {
  weight_.store(spec.weight, std::memory_order_relaxed);
  draining.store(spec.draining.value_or(false), std::memory_order_relaxed);
}

bool Backend::record_check(bool passed, const std::string& detail) {
  bool flipped;
  {
    std::lock_guard<std::mutex> lock(health_mutex_);
    (passed ? checks_passed : checks_failed).fetch_add(1, std::memory_order_relaxed);
    flipped = health_.record(passed);
    last_check_ = LastCheck{passed, detail, std::chrono::system_clock::now()};
    healthy_.store(health_.healthy(), std::memory_order_release);
  }
  if (flipped && !passed) idle_connections_.clear();
  // Coming (back) into service ramps up, except at the start-up round.
  const bool first_check = !checked_before_.exchange(true);
  if (flipped && passed && !first_check) start_ramp(Clock::now());
  return flipped;
}

bool Backend::mark_down(const std::string& detail) {
  bool flipped;
  {
    std::lock_guard<std::mutex> lock(health_mutex_);
    flipped = health_.force_down();
    last_check_ = LastCheck{false, detail, std::chrono::system_clock::now()};
    healthy_.store(false, std::memory_order_release);
  }
  if (flipped) idle_connections_.clear();
  return flipped;
}

bool Backend::eject_until(Clock::time_point until, Clock::time_point now) {
  if (!passive_.eject_until(until, now)) return false;
  ejections_total.fetch_add(1, std::memory_order_relaxed);
  ramp_from_.store(until.time_since_epoch().count(), std::memory_order_relaxed);
  idle_connections_.clear();  // its idle connections are as suspect as it is
  return true;
}

void Backend::set_fault(const FaultSettings& fault) {
  std::lock_guard<std::mutex> lock(fault_mutex_);
  fault_ = fault.active() ? fault : FaultSettings{};
  has_fault_.store(fault.active(), std::memory_order_release);
}

std::optional<FaultSettings> Backend::fault() const {
  if (!has_fault_.load(std::memory_order_acquire)) return std::nullopt;
  std::lock_guard<std::mutex> lock(fault_mutex_);
  if (!fault_.active()) return std::nullopt;  // cleared since the flag was read
  return fault_;
}

long Backend::selection_weight(Clock::time_point now) const {
  const long full = static_cast<long>(weight()) * 100;
  const int64_t from = ramp_from_.load(std::memory_order_relaxed);
  const int64_t ramp = slow_start_.load(std::memory_order_relaxed);
  if (ramp == 0 || from == kNoRamp) return full;
  const int64_t elapsed = now.time_since_epoch().count() - from;
  if (elapsed >= ramp) return full;
  const double share = 0.1 + 0.9 * static_cast<double>(std::max<int64_t>(elapsed, 0)) / ramp;
  return std::max(1L, static_cast<long>(full * share));
}

void Backend::apply(const BackendSettings& settings) {
  slow_start_.store(Clock::duration(settings.slow_start).count(), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(health_mutex_);
    health_.set_thresholds(settings.rise, settings.fall);
  }
  idle_connections_.set_max_idle(settings.max_idle_connections);
  passive_.breaker().reconfigure(settings.circuit);
  std::lock_guard<std::mutex> lock(latency_mutex_);
  latency_.set_decay(settings.latency_decay);
}

Backend::LatencyTicket Backend::latency_begin(Clock::time_point now) {
  const int in_flight = active_requests.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(latency_mutex_);
  return {latency_.begin(now), in_flight};
}

void Backend::latency_end(LatencyTicket ticket, double first_byte_ms, bool failed, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(latency_mutex_);
  latency_.end(ticket.started, first_byte_ms, failed, now);
  if (auto_limit_ && !failed) {
    max_requests_.store(concurrency_limit_.on_sample(first_byte_ms, ticket.in_flight, now), std::memory_order_relaxed);
  }
}

void Backend::latency_cancel(LatencyTicket ticket) {
  std::lock_guard<std::mutex> lock(latency_mutex_);
  latency_.cancel(ticket.started);
}

void Backend::set_request_limit(const RequestLimit& limit) {
  std::lock_guard<std::mutex> lock(latency_mutex_);
  auto_limit_ = limit.mode == RequestLimit::Mode::Auto;
  max_requests_.store(auto_limit_ ? concurrency_limit_.limit() : limit.fixed, std::memory_order_relaxed);
}

void Backend::take_place() {
  active_requests.fetch_add(1, std::memory_order_relaxed);
  requests_total.fetch_add(1, std::memory_order_relaxed);
}

bool Backend::try_take_place() {
  int active = active_requests.load(std::memory_order_relaxed);
  for (;;) {
    const int limit = max_requests();
    if (limit != 0 && active >= limit) return false;
    if (active_requests.compare_exchange_weak(active, active + 1, std::memory_order_relaxed)) break;
  }
  requests_total.fetch_add(1, std::memory_order_relaxed);
  return true;
}

std::optional<double> Backend::latency_ms(Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(latency_mutex_);
  if (!latency_.known()) return std::nullopt;
  return latency_.latency_ms(now);
}

bool Backend::set_addresses(ResolvedAddresses addresses) {
  auto fresh = std::make_shared<const ResolvedAddresses>(std::move(addresses));
  auto before = std::atomic_exchange(&addresses_, fresh);
  const bool changed = before && *before != *fresh;
  if (changed) idle_connections_.clear();  // pooled connections lead to where the name no longer points
  return changed;
}

void Backend::start_ramp(Clock::time_point from) {
  ramp_from_.store(from.time_since_epoch().count(), std::memory_order_relaxed);
}

LastCheck Backend::last_check() const {
  std::lock_guard<std::mutex> lock(health_mutex_);
  return last_check_;
}

}  // namespace lb
