// The clock every policy in lb/protection/ reads "now" from: injected, so unit
// tests move time by hand (test/support/fake_clock.h).
#pragma once

#include <chrono>
#include <functional>

namespace lb {

// Returns "now".
using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

}  // namespace lb
