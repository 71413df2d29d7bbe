// A steady clock that tests move by hand, injected instead of sleeping.
//
//   test_support::FakeClock clock;
//   lb::RateLimiter limiter(2, 3, 100, clock.fn());
//   clock.now += std::chrono::milliseconds(500);
#pragma once

#include <chrono>
#include <functional>

namespace test_support {

struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  std::function<std::chrono::steady_clock::time_point()> fn() {
    return [this] { return now; };
  }
};

}  // namespace test_support
