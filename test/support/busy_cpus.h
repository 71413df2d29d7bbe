// Keeps every CPU busy while it lives, so a program under test is preempted
// between any two of its steps: how races in start-up and shutdown show up on
// a loaded machine (a build, a CI neighbour) and not on an idle one.
//
//   test_support::BusyCpus busy;  // spinning until the end of the scope
#pragma once

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace test_support {

class BusyCpus {
 public:
  BusyCpus() {
    unsigned count = std::max(2u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < count; ++i) {
      spinners_.emplace_back([this] {
        while (!done_.load(std::memory_order_relaxed)) {
        }
      });
    }
  }
  ~BusyCpus() {
    done_.store(true, std::memory_order_relaxed);
    for (auto& spinner : spinners_) spinner.join();
  }
  BusyCpus(const BusyCpus&) = delete;
  BusyCpus& operator=(const BusyCpus&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::vector<std::thread> spinners_;
};

}  // namespace test_support
