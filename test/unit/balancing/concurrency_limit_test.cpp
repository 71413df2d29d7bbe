// --max-requests auto against a simulated backend on a made-up clock: a pool
// of `workers` answering in exponential service times, first come first
// served, offered more than it can serve. The learned limit must settle near
// the workers (so what is served stays fast and little is refused), and
// follow the backend when it loses or gains workers.
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <queue>
#include <random>
#include <vector>

#include "lb/balancing/concurrency_limit.h"

using namespace lb;
using Clock = std::chrono::steady_clock;

namespace {

const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(1);

struct Run {
  double served_per_second = 0;
  double p99_ms = 0;
  int final_limit = 0;
};

// Poisson arrivals at `load` x capacity for `seconds`; a request finding the
// backend at the limit is refused. `workers_at(t)` may change the backend.
Run simulate(ConcurrencyLimit& limit, double service_ms, double load, double seconds,
             const std::function<int(double)>& workers_at, uint32_t seed = 7, double clock_offset_s = 0) {
  std::mt19937 random(seed);
  std::exponential_distribution<double> service(1.0 / service_ms);
  struct Done { double at; double sent; int in_flight_when_sent; bool operator>(const Done& o) const { return at > o.at; } };
  std::priority_queue<Done, std::vector<Done>, std::greater<>> running;  // being served, by end
  std::deque<Done> waiting;  // inside the backend, no worker free (at = arrival)
  std::vector<double> latencies;
  int in_flight = 0;
  double now = 0;
  std::exponential_distribution<double> gap(load * workers_at(0) / service_ms);
  double next_arrival = gap(random);
  auto start_work = [&](double t) {
    while (!waiting.empty() && static_cast<int>(running.size()) < workers_at(t)) {
      Done job = waiting.front();
      waiting.pop_front();
      job.at = t + service(random);
      running.push(job);
    }
  };
  while (now < seconds * 1000) {
    if (!running.empty() && running.top().at <= next_arrival) {
      const Done done = running.top();
      running.pop();
      now = done.at;
      --in_flight;
      const double latency = now - done.sent;
      if (now > seconds * 500) latencies.push_back(latency);  // the second half: settled
      limit.on_sample(latency, done.in_flight_when_sent, kStart + std::chrono::microseconds(static_cast<long>((clock_offset_s * 1000 + now) * 1000)));
      start_work(now);
    } else {
      now = next_arrival;
      next_arrival = now + gap(random);
      if (in_flight >= limit.limit()) continue;  // refused
      ++in_flight;
      waiting.push_back({now, now, in_flight});
      start_work(now);
    }
  }
  std::sort(latencies.begin(), latencies.end());
  Run run;
  run.served_per_second = latencies.size() / (seconds / 2);
  run.p99_ms = latencies.empty() ? 0 : latencies[latencies.size() * 99 / 100];
  run.final_limit = limit.limit();
  return run;
}

}  // namespace

TEST_CASE("auto limit settles near a backend's workers when offered 125% of its capacity", "[concurrency-limit]") {
  for (int workers : {2, 8, 16}) {
    ConcurrencyLimit limit;
    const Run run = simulate(limit, 20, 1.25, 60, [&](double) { return workers; });
    INFO("workers " << workers << ": limit " << run.final_limit << ", served " << run.served_per_second
                    << "/s, p99 " << run.p99_ms << " ms");
    const double capacity = workers / 0.020;
    CHECK(run.served_per_second >= 0.85 * capacity);
    CHECK(run.final_limit >= workers);
    CHECK(run.final_limit <= 3 * workers + 3);
    CHECK(run.p99_ms <= 200);  // unlimited, the backend's own queue would grow without end
  }
}

TEST_CASE("auto limit shrinks when the backend loses workers and grows when it gets them back", "[concurrency-limit]") {
  ConcurrencyLimit limit;
  simulate(limit, 20, 1.25, 30, [](double) { return 16; });
  const int before = limit.limit();
  simulate(limit, 20, 1.25, 30, [](double) { return 4; }, 8, 30);
  const int fewer = limit.limit();
  simulate(limit, 20, 1.25, 60, [](double) { return 16; }, 9, 60);
  const int again = limit.limit();
  INFO("16 workers: " << before << ", 4: " << fewer << ", 16 again: " << again);
  CHECK(before >= 16);
  CHECK(fewer <= 4 * 4);
  CHECK(again >= 16);
}

TEST_CASE("auto limit grows only as far as a lightly used backend is used", "[concurrency-limit]") {
  ConcurrencyLimit limit;  // 64 workers asked for 1.3 requests at a time on average
  simulate(limit, 20, 0.02, 30, [](double) { return 64; });
  CHECK(limit.limit() <= 2 * static_cast<int>(ConcurrencyLimit::kInitial));
}
