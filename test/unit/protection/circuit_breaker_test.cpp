// The circuit breaker's state machine driven by a hand-moved clock (no sleeps).
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lb/protection/circuit_breaker.h"
#include "test/support/fake_clock.h"

using namespace lb;
using test_support::FakeClock;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// "closed->open", or "none" when nothing changed.
std::string describe(const CircuitTransition& t) {
  return t.changed ? std::string(to_string(t.from)) + "->" + to_string(t.to) : "none";
}

// The window's counts as "requests/failures".
std::string counts(const CircuitBreaker& breaker) {
  return std::to_string(breaker.window_requests()) + "/" + std::to_string(breaker.window_failures());
}

// Admits one request and reports its outcome.
std::string request(CircuitBreaker& breaker, bool success) {
  CircuitTicket ticket = breaker.begin_request();
  REQUIRE(ticket);
  return describe(breaker.end_request(ticket, success));
}

// Trips a default-settings breaker with 10 failures.
void trip(CircuitBreaker& breaker) {
  for (int i = 0; i < 9; ++i) REQUIRE(request(breaker, false) == "none");
  REQUIRE(request(breaker, false) == "closed->open");
}

// Trips, waits out open_for and admits the first trial (its ticket returned).
CircuitTicket enter_half_open(CircuitBreaker& breaker, FakeClock& clock) {
  trip(breaker);
  clock.now += seconds(30);
  CircuitTransition transition;
  CircuitTicket trial = breaker.begin_request(&transition);
  REQUIRE(trial);
  REQUIRE(describe(transition) == "open->half-open");
  return trial;
}

}  // namespace

// Each state has the name /status and the logs use.
TEST_CASE("CircuitState names", "[circuit]") {
  CHECK(std::string(to_string(CircuitState::Closed)) == "closed");
  CHECK(std::string(to_string(CircuitState::Open)) == "open");
  CHECK(std::string(to_string(CircuitState::HalfOpen)) == "half-open");
}

// Below min_requests even 100% failures keep the breaker closed; the request that reaches it trips it.
TEST_CASE("CircuitBreaker waits for min_requests", "[circuit]") {
  FakeClock clock;
  CircuitBreaker breaker(CircuitSettings{}, clock.fn());
  for (int i = 0; i < 9; ++i) CHECK(request(breaker, false) == "none");
  CHECK(breaker.state() == CircuitState::Closed);
  CHECK(counts(breaker) == "9/9");
  CHECK(request(breaker, false) == "closed->open");
  CHECK(breaker.state() == CircuitState::Open);
  CHECK(counts(breaker) == "10/10");
}

// The breaker opens exactly when failures/requests reaches failure_ratio.
TEST_CASE("CircuitBreaker opens at the failure ratio", "[circuit]") {
  FakeClock clock;
  CircuitBreaker breaker(CircuitSettings{}, clock.fn());
  for (int i = 0; i < 6; ++i) CHECK(request(breaker, true) == "none");
  for (int i = 0; i < 4; ++i) CHECK(request(breaker, false) == "none");
  CHECK(counts(breaker) == "10/4");
  CHECK(request(breaker, false) == "none");  // 5/11 < 0.5
  CHECK(request(breaker, false) == "closed->open");  // 6/12
}

// The ratio is checked after every outcome, so a success that brings the count to min_requests can trip it.
TEST_CASE("CircuitBreaker can trip on a success", "[circuit]") {
  FakeClock clock;
  CircuitBreaker breaker(CircuitSettings{}, clock.fn());
  for (int i = 0; i < 9; ++i) CHECK(request(breaker, false) == "none");
  CHECK(request(breaker, true) == "closed->open");  // 9/10
}

// A ratio like 0.28 compares exactly (7/25 >= 0.28), with no floating-point near miss (0.28 * 25 > 7).
TEST_CASE("CircuitBreaker compares decimal ratios exactly", "[circuit]") {
  FakeClock clock;
  CircuitSettings settings;
  settings.failure_ratio = 0.28;
  CircuitBreaker breaker(settings, clock.fn());
  for (int i = 0; i < 18; ++i) CHECK(request(breaker, true) == "none");
  for (int i = 0; i < 6; ++i) CHECK(request(breaker, false) == "none");  // 6/24 = 0.25
  CHECK(request(breaker, false) == "closed->open");                      // 7/25 = 0.28
}

// Failures older than the window stop counting (10 buckets of 1 s: one at 0.5 s counts until 10 s).
TEST_CASE("CircuitBreaker forgets failures outside the window", "[circuit]") {
  FakeClock clock;
  CircuitBreaker breaker(CircuitSettings{}, clock.fn());  // window 10 s from construction
  clock.now += milliseconds(500);
  for (int i = 0; i < 5; ++i) CHECK(request(breaker, false) == "none");
  clock.now += milliseconds(9499);  // 9.999 s
  CHECK(counts(breaker) == "5/5");
  clock.now += milliseconds(1);  // 10 s: bucket 0 leaves the window
  CHECK(counts(breaker) == "0/0");
  // With the old failures this would be 9/15 and open; without them 4/10 stays closed.
  for (int i = 0; i < 6; ++i) CHECK(request(breaker, true) == "none");
  for (int i = 0; i < 4; ++i) CHECK(request(breaker, false) == "none");
  CHECK(counts(breaker) == "10/4");
  CHECK(breaker.state() == CircuitState::Closed);
}

// Outcomes in different buckets of the same window add up.
TEST_CASE("CircuitBreaker sums the whole window", "[circuit]") {
  FakeClock clock;
  CircuitBreaker breaker(CircuitSettings{}, clock.fn());
  for (int i = 0; i < 5; ++i) CHECK(request(breaker, false) == "none");
  clock.now += milliseconds(9999);
  for (int i = 0; i < 4; ++i) CHECK(request(breaker, false) == "none");
  CHECK(counts(breaker) == "9/9");
  CHECK(request(breaker, false) == "closed->open");
}

// Open refuses traffic for exactly open_for; then the next begin_request() moves it to half-open.
TEST_CASE("CircuitBreaker stays open for open_for", "[circuit]") {
  FakeClock clock;
  CircuitBreaker breaker(CircuitSettings{}, clock.fn());
  trip(breaker);
  CircuitTransition transition{true, CircuitState::Closed, CircuitState::Closed};
  CHECK_FALSE(breaker.allows_traffic());
  CHECK_FALSE(breaker.begin_request(&transition));
  CHECK(describe(transition) == "none");
  clock.now += milliseconds(29999);
  CHECK_FALSE(breaker.allows_traffic());
  CHECK_FALSE(breaker.begin_request());
  clock.now += milliseconds(1);
  CHECK(breaker.allows_traffic());
  CHECK(breaker.state() == CircuitState::Open);  // allows_traffic() changes nothing
  CHECK(breaker.begin_request(&transition));
  CHECK(describe(transition) == "open->half-open");
  CHECK(breaker.state() == CircuitState::HalfOpen);
}

// Half-open admits half_open_trials requests in all; once they all succeed it closes with a fresh window.
TEST_CASE("CircuitBreaker half-open trial limit and closing", "[circuit]") {
  FakeClock clock;
  CircuitBreaker breaker(CircuitSettings{}, clock.fn());
  CircuitTicket trial1 = enter_half_open(breaker, clock);
  CircuitTransition transition;
  CircuitTicket trial2 = breaker.begin_request(&transition);
  CHECK(trial2);
  CHECK(describe(transition) == "none");
  CHECK(breaker.allows_traffic());
  CircuitTicket trial3 = breaker.begin_request();
  CHECK(trial3);
  CHECK_FALSE(breaker.allows_traffic());
  CHECK_FALSE(breaker.begin_request());
  CHECK(describe(breaker.end_request(trial1, true)) == "none");
  CircuitTransition unchanged = breaker.end_request(trial2, true);
  CHECK(describe(unchanged) == "none");
  CHECK(unchanged.to == CircuitState::HalfOpen);  // the state after, reported unchanged
  CHECK_FALSE(breaker.begin_request());  // a finished trial does not free a slot
  CHECK(breaker.state() == CircuitState::HalfOpen);
  CHECK(describe(breaker.end_request(trial3, true)) == "half-open->closed");
  CHECK(breaker.state() == CircuitState::Closed);
  CHECK(counts(breaker) == "0/0");
  CHECK(breaker.allows_traffic());
  // A fresh window needs min_requests again before it can trip.
  for (int i = 0; i < 9; ++i) CHECK(request(breaker, false) == "none");
  CHECK(request(breaker, false) == "closed->open");
}

// allows_traffic() never takes a trial slot.
TEST_CASE("CircuitBreaker allows_traffic is non-consuming", "[circuit]") {
  FakeClock clock;
  CircuitSettings settings;
  settings.half_open_trials = 2;
  CircuitBreaker breaker(settings, clock.fn());
  enter_half_open(breaker, clock);
  for (int i = 0; i < 100; ++i) REQUIRE(breaker.allows_traffic());
  CHECK(breaker.begin_request());
  CHECK_FALSE(breaker.allows_traffic());
}

// Any failed trial re-opens the breaker for a new full open_for, counted from that failure.
TEST_CASE("CircuitBreaker re-opens from half-open", "[circuit]") {
  FakeClock clock;
  CircuitBreaker breaker(CircuitSettings{}, clock.fn());
  CircuitTicket trial1 = enter_half_open(breaker, clock);
  CircuitTicket trial2 = breaker.begin_request();
  CHECK(trial2);
  CHECK(describe(breaker.end_request(trial2, true)) == "none");
  clock.now += seconds(5);
  CHECK(describe(breaker.end_request(trial1, false)) == "half-open->open");
  CHECK(breaker.state() == CircuitState::Open);
  CHECK_FALSE(breaker.allows_traffic());
  CHECK_FALSE(breaker.begin_request());
  clock.now += milliseconds(29999);
  CHECK_FALSE(breaker.begin_request());
  clock.now += milliseconds(1);
  CircuitTransition transition;
  CircuitTicket next_period = breaker.begin_request(&transition);
  CHECK(next_period);
  CHECK(describe(transition) == "open->half-open");
  CHECK(breaker.begin_request());
  CHECK(breaker.begin_request());
  CHECK_FALSE(breaker.begin_request());  // a new half-open period has fresh trial slots, no more
  // A trial of the earlier period that ends only now decides nothing.
  CHECK(describe(breaker.end_request(trial2, false)) == "none");
  CHECK(describe(breaker.end_request(next_period, false)) == "half-open->open");
}

// Outcomes of requests admitted before the breaker opened count in the window
// but change no state: not while open, and not in half-open, where only the
// trials' own outcomes decide, whenever the stragglers end.
TEST_CASE("CircuitBreaker ignores late outcomes of requests admitted before it opened", "[circuit]") {
  FakeClock clock;
  CircuitSettings settings;
  settings.min_requests = 2;
  settings.half_open_trials = 2;
  CircuitBreaker breaker(settings, clock.fn());
  std::vector<CircuitTicket> before;
  for (int i = 0; i < 5; ++i) before.push_back(breaker.begin_request());
  CHECK(describe(breaker.end_request(before[0], false)) == "none");
  CHECK(describe(breaker.end_request(before[1], false)) == "closed->open");
  CHECK(describe(breaker.end_request(before[2], true)) == "none");
  CHECK(breaker.state() == CircuitState::Open);
  CHECK(counts(breaker) == "3/2");
  clock.now += seconds(30);
  CircuitTicket trial1 = breaker.begin_request();
  CHECK(trial1);
  // A straggler's success while the trial is still out is not the trial's result...
  CHECK(describe(breaker.end_request(before[3], true)) == "none");
  CircuitTicket trial2 = breaker.begin_request();
  CHECK(trial2);
  CHECK(describe(breaker.end_request(trial1, true)) == "none");
  // ...nor is a straggler's failure: it cannot re-open the breaker.
  CHECK(describe(breaker.end_request(before[4], false)) == "none");
  CHECK(breaker.state() == CircuitState::HalfOpen);
  CHECK(describe(breaker.end_request(trial2, true)) == "half-open->closed");
}

// With open_for = 0 an opened breaker goes half-open at the very next request.
TEST_CASE("CircuitBreaker with zero open time", "[circuit]") {
  FakeClock clock;
  CircuitSettings settings;
  settings.open_for = milliseconds(0);
  CircuitBreaker breaker(settings, clock.fn());
  trip(breaker);
  CHECK(breaker.allows_traffic());
  CircuitTransition transition;
  CHECK(breaker.begin_request(&transition));
  CHECK(describe(transition) == "open->half-open");
}

// Settings that would make the state machine meaningless are rejected at construction.
TEST_CASE("CircuitBreaker rejects bad settings", "[circuit]") {
  auto with = [](auto change) {
    CircuitSettings settings;
    change(settings);
    return settings;
  };
  CHECK_THROWS_AS(CircuitBreaker(with([](CircuitSettings& s) { s.failure_ratio = 0; })), std::invalid_argument);
  CHECK_THROWS_AS(CircuitBreaker(with([](CircuitSettings& s) { s.failure_ratio = 1.5; })), std::invalid_argument);
  CHECK_THROWS_AS(CircuitBreaker(with([](CircuitSettings& s) { s.min_requests = 0; })), std::invalid_argument);
  CHECK_THROWS_AS(CircuitBreaker(with([](CircuitSettings& s) { s.window = milliseconds(0); })), std::invalid_argument);
  CHECK_THROWS_AS(CircuitBreaker(with([](CircuitSettings& s) { s.open_for = milliseconds(-1); })),
                  std::invalid_argument);
  CHECK_THROWS_AS(CircuitBreaker(with([](CircuitSettings& s) { s.half_open_trials = 0; })), std::invalid_argument);
  CHECK_THROWS_AS(CircuitBreaker(CircuitSettings{}, SteadyClock{}), std::invalid_argument);
  CircuitBreaker real_clock(with([](CircuitSettings& s) { s.failure_ratio = 1; }));  // the default clock works too
  CHECK(real_clock.begin_request());
}

// Many threads recording outcomes while closed lose no count.
TEST_CASE("CircuitBreaker counts exactly under concurrency", "[circuit]") {
  FakeClock clock;
  CircuitSettings settings;
  settings.min_requests = 1000000;  // never trips: this test is about counting
  CircuitBreaker breaker(settings, clock.fn());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        CircuitTicket ticket = breaker.begin_request();
        if (ticket) breaker.end_request(ticket, i % 4 != 0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(counts(breaker) == "8000/2000");
  CHECK(breaker.state() == CircuitState::Closed);
}

// Racing threads trip the breaker exactly once, and every admitted request is counted.
TEST_CASE("CircuitBreaker trips once under concurrency", "[circuit]") {
  FakeClock clock;
  CircuitBreaker breaker(CircuitSettings{}, clock.fn());
  std::atomic<int> admitted{0}, opened{0}, other_changes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        CircuitTicket ticket = breaker.begin_request();
        if (!ticket) continue;
        ++admitted;
        std::string change = describe(breaker.end_request(ticket, false));
        if (change == "closed->open") {
          ++opened;
        } else if (change != "none") {
          ++other_changes;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(opened == 1);
  CHECK(other_changes == 0);
  // 10 outcomes trip it; at most one request per other thread was already admitted.
  CHECK(admitted >= 10);
  CHECK(admitted <= 17);
  CHECK(breaker.window_requests() == admitted);
  CHECK(breaker.window_failures() == admitted);
}

// Racing threads in half-open get exactly half_open_trials slots; their successes close it exactly once.
TEST_CASE("CircuitBreaker trial slots under concurrency", "[circuit]") {
  FakeClock clock;
  CircuitSettings settings;
  settings.half_open_trials = 5;
  CircuitBreaker breaker(settings, clock.fn());
  trip(breaker);
  clock.now += seconds(30);

  std::atomic<int> to_half_open{0};
  std::mutex trials_mutex;
  std::vector<CircuitTicket> trials;  // guards: trials_mutex
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        CircuitTransition transition;
        CircuitTicket ticket = breaker.begin_request(&transition);
        if (ticket) {
          std::lock_guard<std::mutex> lock(trials_mutex);
          trials.push_back(ticket);
        }
        if (describe(transition) == "open->half-open") ++to_half_open;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  REQUIRE(trials.size() == 5);
  CHECK(to_half_open == 1);

  std::atomic<int> closed{0}, unchanged{0};
  threads.clear();
  for (const CircuitTicket& trial : trials) {
    threads.emplace_back([&, trial] {
      std::string change = describe(breaker.end_request(trial, true));
      if (change == "half-open->closed") ++closed;
      if (change == "none") ++unchanged;
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(closed == 1);
  CHECK(unchanged == 4);
  CHECK(breaker.state() == CircuitState::Closed);
}
