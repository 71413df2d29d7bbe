// Health thresholds and the checker driven by a fake probe (no sockets).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "lb/balancing/health_checker.h"
#include "lb/balancing/health_state.h"

using namespace lb;

namespace {

// One pool "default" holding `backends`, checked on /health every `interval`.
std::function<std::vector<HealthTarget>()> targets_of(const BackendList& backends, std::chrono::milliseconds interval) {
  return [backends, interval] { return std::vector<HealthTarget>{{"default", "/health", interval, backends}}; };
}

}  // namespace

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
  auto probe = [&](const Backend& backend, const std::string&, std::chrono::milliseconds, const TlsClientFiles&) {
    ++probes;
    bool up = backend.spec.port != 8002;
    return ProbeResult{up, up ? "200" : "connection refused"};
  };
  HealthChecker checker(targets_of(backends, std::chrono::milliseconds(60000)), probe);
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
  auto probe = [&](const Backend&, const std::string&, std::chrono::milliseconds, const TlsClientFiles&) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      ++probes;
    }
    probed.notify_all();
    return ProbeResult{false, "connection refused"};
  };
  HealthChecker checker(targets_of(backends, std::chrono::milliseconds(10)), probe);
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
  auto probe = [&](const Backend&, const std::string&, std::chrono::milliseconds, const TlsClientFiles&) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      ++probes;
    }
    probed.notify_all();
    return ProbeResult{true, "200"};
  };
  HealthChecker checker(targets_of(backends, std::chrono::hours(1)), probe);
  checker.start();
  checker.check_soon();
  std::unique_lock<std::mutex> lock(mutex);
  CHECK(probed.wait_for(lock, std::chrono::seconds(5), [&] { return probes == 1; }));
  lock.unlock();
  checker.stop();
  CHECK(backends[0]->healthy());
}

// Each pool is probed on its own health path.
TEST_CASE("HealthChecker probes each pool on its own path", "[health]") {
  auto api = std::make_shared<Backend>(BackendSpec{"http", "127.0.0.1", 8001, 1}, BackendSettings{}, "api");
  auto web = std::make_shared<Backend>(BackendSpec{"http", "127.0.0.1", 8002, 1}, BackendSettings{}, "web");
  std::mutex mutex;
  std::vector<std::string> seen;
  auto probe = [&](const Backend& backend, const std::string& path, std::chrono::milliseconds, const TlsClientFiles&) {
    std::lock_guard<std::mutex> lock(mutex);
    seen.push_back(backend.pool_name + " " + path);
    return ProbeResult{path == "/ready", path == "/ready" ? "200" : "status 404"};
  };
  HealthChecker checker(
      [&] {
        return std::vector<HealthTarget>{{"api", "/ready", std::chrono::hours(1), {api}},
                                         {"web", "/health", std::chrono::hours(1), {web}}};
      },
      probe);
  checker.run_round();
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<std::string>{"api /ready", "web /health"});
  CHECK(api->healthy());
  CHECK_FALSE(web->healthy());
}

// The timetable gives each pool its own interval, on a made-up clock.
TEST_CASE("take_due_rounds keeps one timetable per pool", "[health]") {
  using namespace std::chrono;
  const steady_clock::time_point start{seconds(1000)};
  std::vector<HealthTarget> targets{{"fast", "/health", milliseconds(200), {}}, {"slow", "/health", seconds(1), {}}};
  HealthTimetable timetable;
  steady_clock::time_point wake;
  CHECK(take_due_rounds(timetable, targets, start, wake).empty());  // first sight: start-up round was run_round()'s
  CHECK(wake == start + milliseconds(200));
  auto due = take_due_rounds(timetable, targets, start + milliseconds(200), wake);
  REQUIRE(due.size() == 1);
  CHECK(due[0].pool == "fast");
  CHECK(wake == start + milliseconds(400));
  CHECK(take_due_rounds(timetable, targets, start + milliseconds(300), wake).empty());
  due = take_due_rounds(timetable, targets, start + seconds(1), wake);
  REQUIRE(due.size() == 2);  // fast is late, slow is on time
  CHECK(wake == start + milliseconds(1200));
  // A pool added by a reload joins the timetable one interval after it is first seen.
  targets.push_back({"new", "/health", milliseconds(50), {}});
  CHECK(take_due_rounds(timetable, targets, start + milliseconds(1010), wake).empty());
  CHECK(wake == start + milliseconds(1060));
}

// Every check resolves the host name again: a changed answer is stored (and
// the idle connections to the old address dropped); no answer fails the check
// with the resolver's reason, and the probe is not even tried.
TEST_CASE("HealthChecker follows DNS changes", "[health][dns]") {
  auto backend = std::make_shared<Backend>(BackendSpec{"http", "api.internal", 8080, 1}, BackendSettings{});
  std::string lookup_error;
  std::string answer = "10.0.0.7";
  auto resolver = [&](const Backend& b, std::string& error) {
    if (answer.empty()) {
      error = "cannot resolve host: Name or service not known";
      return ResolvedAddresses{};
    }
    std::string ignored;
    return resolve_host(answer, b.spec.port, ignored);  // a numeric address: no lookup
  };
  int probes = 0;
  auto probe = [&](const Backend&, const std::string&, std::chrono::milliseconds, const TlsClientFiles&) {
    ++probes;
    return ProbeResult{true, "200"};
  };
  HealthChecker checker(targets_of({backend}, std::chrono::hours(1)), probe, resolver);
  checker.run_round();
  REQUIRE(backend->addresses());
  CHECK(address_text(backend->addresses()->at(0)) == "10.0.0.7");
  CHECK(backend->healthy());

  answer = "10.0.0.8";
  checker.run_round();
  CHECK(address_text(backend->addresses()->at(0)) == "10.0.0.8");
  CHECK(backend->set_addresses(resolve_host("10.0.0.9", 8080, lookup_error)));  // a change is reported
  CHECK_FALSE(backend->set_addresses(resolve_host("10.0.0.9", 8080, lookup_error)));  // the same is not

  answer.clear();
  checker.run_round();
  CHECK_FALSE(backend->healthy());
  CHECK(backend->last_check().detail == "cannot resolve host: Name or service not known");
  CHECK(probes == 2);  // not probed without an address
}
