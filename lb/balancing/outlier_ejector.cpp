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

std::chrono::milliseconds OutlierEjector::eject(Backend& backend, const BackendList& pool,
                                                Backend::Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (backend.ejected(now)) return std::chrono::milliseconds(0);  // another thread was first
  const auto out = std::count_if(pool.begin(), pool.end(), [&](const auto& b) { return b->ejected(now); });
  if (static_cast<size_t>(out + 1) * 2 > pool.size()) return std::chrono::milliseconds(0);  // half is out already
  EjectionStreak& streak = streaks_[backend.url];
  EjectionStreak next = streak;  // committed only if PassiveHealth takes the ejection
  std::chrono::milliseconds duration = next.begin(now, settings_);
  if (!backend.eject_until(now + duration, now)) return std::chrono::milliseconds(0);
  streak = next;
  return duration;
}

}  // namespace lb
