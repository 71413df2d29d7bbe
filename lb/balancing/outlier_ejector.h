// Outlier ejection: passive health on responses, as Envoy and nginx's
// max_fails have it. A backend whose attempts fail `after` times in a row
// (5xx, connect failures, timeouts, broken responses; the streak is counted by
// its PassiveHealth, which also says when the circuit breaker governs instead)
// is taken out of rotation for a while, even though its health check may still pass:
//
//   [Health Check] http://127.0.0.1:8002 is EJECTED for 10 s (5 consecutive failures)
//
// Each ejection in a streak lasts twice the one before (base, 2x, 4x, ... up to
// `max`); the streak starts over once the backend has gone `clean_period`
// without one. Never more than half of a pool is ejected at once, so a wide
// outage cannot empty the rotation of backends that might still answer.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "lb/balancing/backend.h"

namespace lb {

struct EjectionSettings {
  int after = 5;  // consecutive failures that eject; 0 = off
  std::chrono::milliseconds base{10000};
  std::chrono::milliseconds max{300000};
  std::chrono::milliseconds clean_period{300000};
};

// One backend's streak of ejections. Pure: unit-tested with made-up times.
class EjectionStreak {
 public:
  using TimePoint = Backend::Clock::time_point;
  // How long an ejection starting at `now` lasts; records it.
  std::chrono::milliseconds begin(TimePoint now, const EjectionSettings& settings);

 private:
  int count_ = 0;       // ejections in this streak
  TimePoint last_end_;  // when the latest one ended (or will end)
};

class OutlierEjector {
 public:
  explicit OutlierEjector(EjectionSettings settings) : after_(settings.after), settings_(settings) {}

  // --eject-after: the failures in a row that make an ejection due (0: off).
  int after() const { return after_.load(std::memory_order_relaxed); }

  // Ejects `backend` (one of `pool`), whose PassiveHealth said an ejection is
  // due. Returns how long for, or zero when half the pool is out already, or
  // when it is ejected or its circuit opened meanwhile.
  std::chrono::milliseconds eject(Backend& backend, const BackendList& pool, Backend::Clock::time_point now);

  // New settings (SIGHUP); streaks and ejections under way are kept.
  void set_settings(EjectionSettings settings) {
    std::lock_guard<std::mutex> lock(mutex_);
    after_.store(settings.after, std::memory_order_relaxed);
    settings_ = settings;
  }

 private:
  std::atomic<int> after_;     // settings_.after, read without the lock by every attempt
  std::mutex mutex_;  // held only to decide and record an ejection (never over I/O)
  EjectionSettings settings_;  // guards: mutex_
  std::unordered_map<std::string, EjectionStreak> streaks_;  // guards: mutex_; by backend URL
};

}  // namespace lb
