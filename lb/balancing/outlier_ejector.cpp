#include "lb/balancing/outlier_ejector.h"

#include <algorithm>

namespace lb {

std::chrono::milliseconds EjectionStreak::begin(TimePoint now, const EjectionSettings& settings) {
  if (count_ > 0 && now - last_end_ >= settings.clean_period) count_ = 0;  // well behaved since: start over
  std::chrono::milliseconds duration = settings.base;
  for (int i = 0; i < count_ && duration < settings.max; ++i) duration *= 2;
  duration = std::min(duration, settings.max);
  ++count_;
  last_end_ = now + duration;
  return duration;
}

std::chrono::milliseconds OutlierEjector::record(Backend& backend, bool failed, const BackendList& pool,
                                                 Backend::Clock::time_point now) {
  const int after = after_.load(std::memory_order_relaxed);
  if (after <= 0) return std::chrono::milliseconds(0);
  if (!failed) {
    // Most attempts succeed: only write when there is a streak to end.
    if (backend.consecutive_failures.load(std::memory_order_relaxed) != 0) {
      backend.consecutive_failures.store(0, std::memory_order_relaxed);
    }
    return std::chrono::milliseconds(0);
  }
  if (backend.consecutive_failures.fetch_add(1, std::memory_order_relaxed) + 1 < after) {
    return std::chrono::milliseconds(0);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (backend.ejected(now)) return std::chrono::milliseconds(0);  // another thread was first
  const auto out = std::count_if(pool.begin(), pool.end(), [&](const auto& b) { return b->ejected(now); });
  if (static_cast<size_t>(out + 1) * 2 > pool.size()) return std::chrono::milliseconds(0);  // half is out already
  std::chrono::milliseconds duration = streaks_[backend.url].begin(now, settings_);
  backend.eject_until(now + duration);
  return duration;
}

}  // namespace lb
