// Waiting for a condition that a test cannot be told about directly (a health
// check round, a page refresh), by polling it, bounded in time.
#pragma once

#include <chrono>
#include <thread>

namespace test_support {

// Polls `condition` every 50 ms for up to `limit`; true once it holds.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

}  // namespace test_support
