// Least latency on scripted response times and a made-up clock: the
// estimate itself (latency_estimate.h), then the selector shifting traffic
// off a backend that slows down, and back once it recovers.
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <vector>

#include "lb/balancing/latency_estimate.h"
#include "lb/balancing/least_latency_selector.h"
#include "lb/balancing/pool_queue.h"
#include "test/support/healthy_backends.h"

using namespace lb;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const Clock::time_point kStart = Clock::time_point{} + 1h;

Clock::time_point at_ms(long ms) { return kStart + std::chrono::milliseconds(ms); }

BackendList make_backends(int count, std::chrono::milliseconds decay) {
  BackendSettings settings;
  settings.latency_decay = decay;
  return test_support::healthy_backends(count, settings);
}

// Requests arrive every `every_ms`; backend i answers after service(i, t) ms
// (and fails when failing(i) says so). Returns the picks per backend in
// [from, to).
struct Simulation {
  BackendList backends;
  LeastLatencySelector selector;
  std::function<double(size_t, long)> service;
  std::function<bool(size_t)> failing = [](size_t) { return false; };
  struct Pending {
    long ends_at;
    size_t backend;
    Backend::LatencyTicket ticket;
    double ms;
  };
  std::vector<Pending> pending;
  long now = 0;

  Simulation(BackendList list, std::function<double(size_t, long)> service_ms)
      : backends(list), selector(list), service(std::move(service_ms)) {}

  std::vector<int> run(long until, long every_ms, long count_from) {
    std::vector<int> picks(backends.size(), 0);
    for (; now < until; ++now) {
      for (auto it = pending.begin(); it != pending.end();) {
        if (it->ends_at > now) {
          ++it;
          continue;
        }
        Backend& backend = *backends[it->backend];
        backend.latency_end(it->ticket, it->ms, failing(it->backend), at_ms(now));
        backend.active_requests.fetch_sub(1);
        it = pending.erase(it);
      }
      if (now % every_ms != 0) continue;
      SelectionContext context;
      context.now = at_ms(now);
      auto chosen = selector.pick(context);
      REQUIRE(chosen);
      size_t index = 0;
      while (backends[index] != chosen) ++index;
      if (now >= count_from) ++picks[index];
      const double ms = service(index, now);
      chosen->active_requests.fetch_add(1);
      pending.push_back({now + static_cast<long>(ms), index, chosen->latency_begin(at_ms(now)), ms});
    }
    return picks;
  }
};

double share(const std::vector<int>& picks, size_t i) {
  int total = 0;
  for (int p : picks) total += p;
  return total == 0 ? 0 : static_cast<double>(picks[i]) / total;
}

}  // namespace

TEST_CASE("latency estimate: a slow answer counts at once, fast ones pull it down over the decay", "[least-latency]") {
  LatencyEstimate estimate(1000ms);
  CHECK_FALSE(estimate.known());
  estimate.end(estimate.begin(at_ms(0)), 20, false, at_ms(20));
  CHECK(estimate.average_ms(at_ms(20)) == Approx(20));
  estimate.end(estimate.begin(at_ms(20)), 100, false, at_ms(120));
  CHECK(estimate.average_ms(at_ms(120)) == Approx(100));  // the peak, at once
  // Idle, it decays towards zero: e^-1 after one decay.
  CHECK(estimate.average_ms(at_ms(1120)) == Approx(100 * std::exp(-1.0)).epsilon(0.01));
  // A fast answer after a while moves it most of the way down.
  estimate.end(estimate.begin(at_ms(2100)), 20, false, at_ms(2120));
  CHECK(estimate.average_ms(at_ms(2120)) < 35);
}

TEST_CASE("latency estimate: failures are never fast, a stalled request counts by its age", "[least-latency]") {
  LatencyEstimate estimate(10000ms);
  estimate.end(estimate.begin(at_ms(0)), 20, false, at_ms(20));
  estimate.end(estimate.begin(at_ms(20)), 1, /*failed=*/true, at_ms(21));  // a fast 503
  CHECK(estimate.average_ms(at_ms(21)) >= LatencyEstimate::kFailurePenaltyMs);
  LatencyEstimate stalled(10000ms);
  stalled.end(stalled.begin(at_ms(0)), 20, false, at_ms(20));
  auto stuck = stalled.begin(at_ms(100));
  CHECK(stalled.latency_ms(at_ms(110)) == Approx(20).epsilon(0.01));  // younger than the average
  CHECK(stalled.latency_ms(at_ms(600)) == Approx(500));              // older: its age counts
  stalled.end(stuck, 500, false, at_ms(600));
}

TEST_CASE("least-latency moves traffic off a backend within a second of it slowing, and back", "[least-latency]") {
  auto backends = make_backends(3, 1000ms);
  bool slow = false;
  Simulation sim(backends, [&](size_t i, long) { return i == 2 && slow ? 100.0 : 20.0; });
  const auto before = sim.run(2000, 10, 1000);
  CHECK(share(before, 2) > 0.2);  // all three take their part
  slow = true;  // backend 3 turns five times slower, its health check still passing
  const auto first_second = sim.run(3000, 10, 2000);
  CHECK(share(first_second, 2) < 0.05);
  const auto slow_spell = sim.run(5000, 10, 3000);
  CHECK(share(slow_spell, 2) < 0.05);  // a probe now and then, no more
  slow = false;
  sim.run(7000, 10, 7000);
  const auto recovered = sim.run(9000, 10, 7000);
  CHECK(share(recovered, 2) > 0.2);
}

TEST_CASE("least-latency: a backend failing fast is not preferred, a new one starts at the median", "[least-latency]") {
  auto backends = make_backends(3, 10000ms);
  Simulation sim(backends, [](size_t i, long) { return i == 0 ? 1.0 : 20.0; });
  sim.failing = [](size_t i) { return i == 0; };  // answers in 1 ms, with 503
  const auto picks = sim.run(3000, 10, 1000);
  CHECK(share(picks, 0) < 0.1);

  auto fresh = make_backends(3, 10000ms);
  Simulation warm(BackendList{fresh[0], fresh[1]}, [](size_t i, long) { return i == 0 ? 10.0 : 30.0; });
  warm.run(1000, 10, 0);
  LeastLatencySelector three(fresh);  // the third joins with no history: taken at the median (10 or 30)
  SelectionContext context;
  context.now = at_ms(1000);
  fresh[0]->active_requests = 5;  // busy: 11 x 6
  fresh[1]->active_requests = 1;  // 31 x 2; the newcomer, idle, at the median: about 31 x 1
  CHECK(three.pick(context) == fresh[2]);
  fresh[0]->active_requests = 0;  // idle and fast: 11 x 1 beats the median
  CHECK(three.pick(context) == fresh[0]);
}

TEST_CASE("make_selector knows least-latency", "[least-latency]") {
  CHECK(std::string(make_selector("least-latency", make_backends(1, 1000ms))->name()) == "least-latency");
}

TEST_CASE("failures in a row raise the estimate to 10 s at most", "[least-latency]") {
  LatencyEstimate estimate(10s);
  for (int i = 0; i < 40; ++i) estimate.end(estimate.begin(at_ms(i)), 1, /*failed=*/true, at_ms(i));
  CHECK(estimate.average_ms(at_ms(40)) <= LatencyEstimate::kMaxFailurePenaltyMs);
  CHECK(estimate.average_ms(at_ms(40)) >= LatencyEstimate::kMaxFailurePenaltyMs * 0.99);
  estimate.end(estimate.begin(at_ms(41)), 30000, /*failed=*/true, at_ms(41));  // slower than that: counted as it was
  CHECK(estimate.average_ms(at_ms(41)) == Approx(30000));
}

TEST_CASE("least latency weighs in flight against each backend's limit", "[least-latency]") {
  // Equally fast, equally busy: the one that can hold 30 is less full than the one that holds 2.
  CHECK(least_latency_cost(20, 1, 1, 30) < least_latency_cost(20, 1, 1, 2));
  CHECK(least_latency_cost(20, 1, 1, 0) == least_latency_cost(20, 1, 1, 1));  // no limit: as before
  BackendList backends = make_backends(2, 10s);
  backends[0]->set_request_limit(RequestLimit{RequestLimit::Mode::Fixed, 2});
  backends[1]->set_request_limit(RequestLimit{RequestLimit::Mode::Fixed, 30});
  LeastLatencySelector selector(backends);
  const BackendPlace small_busy = BackendPlace::take(backends[0]);
  const BackendPlace large_busy = BackendPlace::take(backends[1]);
  SelectionContext selection;
  selection.now = at_ms(0);
  CHECK(selector.pick(selection) == backends[1]);
}
