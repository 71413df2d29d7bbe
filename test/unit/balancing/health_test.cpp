// Health thresholds and the checker driven by a fake probe (no sockets).
#include <catch2/catch.hpp>

#include <atomic>

#include "lb/balancing/health_checker.h"
#include "lb/balancing/health_state.h"

using namespace lb;

// The first result decides at once; afterwards rise/fall thresholds apply.
TEST_CASE("HealthState rise and fall", "[health]") {
  HealthState state(2, 3);
  CHECK(state.record(true));  // first result decides
  CHECK(state.healthy());
  CHECK_FALSE(state.record(false));
  CHECK_FALSE(state.record(false));
  CHECK(state.healthy());
  CHECK(state.record(false));  // third consecutive failure
  CHECK_FALSE(state.healthy());
  CHECK_FALSE(state.record(true));
  CHECK_FALSE(state.record(false));  // a failure resets the run of passes
  CHECK_FALSE(state.record(true));
  CHECK(state.record(true));
  CHECK(state.healthy());
}

// A passive failure takes a backend down at once, whatever the thresholds.
TEST_CASE("HealthState force_down", "[health]") {
  HealthState state(1, 5);
  state.record(true);
  CHECK(state.force_down());
  CHECK_FALSE(state.healthy());
  CHECK_FALSE(state.force_down());
  CHECK(state.record(true));
}

// One round probes every backend and records each verdict.
TEST_CASE("HealthChecker round with a fake probe", "[health]") {
  BackendList backends;
  for (uint16_t port : {8001, 8002, 8003}) {
    backends.push_back(std::make_shared<Backend>(BackendSpec{"http", "127.0.0.1", port, 1}, BackendSettings{}));
  }
  std::atomic<int> probes{0};
  auto probe = [&](const Backend& backend) {
    ++probes;
    bool up = backend.spec.port != 8002;
    return ProbeResult{up, up ? "200" : "connection refused"};
  };
  HealthChecker checker([&] { return backends; }, probe, std::chrono::milliseconds(60000));
  checker.run_round();
  CHECK(probes == 3);
  CHECK(backends[0]->healthy());
  CHECK_FALSE(backends[1]->healthy());
  CHECK(backends[1]->last_check().detail == "connection refused");
  CHECK(backends[2]->healthy());
}

// The background thread runs rounds every interval and stops promptly when asked.
TEST_CASE("HealthChecker thread runs and stops", "[health]") {
  BackendList backends{std::make_shared<Backend>(BackendSpec{"http", "127.0.0.1", 9, 1}, BackendSettings{1, 2, 128, std::chrono::milliseconds(30000), {}})};
  std::atomic<int> probes{0};
  std::mutex mutex;
  std::condition_variable probed;
  auto probe = [&](const Backend&) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      ++probes;
    }
    probed.notify_all();
    return ProbeResult{false, "connection refused"};
  };
  HealthChecker checker([&] { return backends; }, probe, std::chrono::milliseconds(10));
  checker.start();
  {
    std::unique_lock<std::mutex> lock(mutex);
    REQUIRE(probed.wait_for(lock, std::chrono::seconds(10), [&] { return probes >= 3; }));
  }
  auto before = std::chrono::steady_clock::now();
  checker.stop();
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(2));
  CHECK_FALSE(backends[0]->healthy());
}

// check_soon() runs a round at once instead of after the (long) interval.
TEST_CASE("HealthChecker check_soon runs a round now", "[health]") {
  BackendList backends{std::make_shared<Backend>(BackendSpec{"http", "127.0.0.1", 9, 1}, BackendSettings{})};
  std::mutex mutex;
  std::condition_variable probed;
  int probes = 0;
  auto probe = [&](const Backend&) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      ++probes;
    }
    probed.notify_all();
    return ProbeResult{true, "200"};
  };
  HealthChecker checker([&] { return backends; }, probe, std::chrono::hours(1));
  checker.start();
  checker.check_soon();
  std::unique_lock<std::mutex> lock(mutex);
  CHECK(probed.wait_for(lock, std::chrono::seconds(5), [&] { return probes == 1; }));
  lock.unlock();
  checker.stop();
  CHECK(backends[0]->healthy());
}
