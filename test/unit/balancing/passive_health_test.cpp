// Outlier ejection and slow start, on made-up times.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "test/support/fake_clock.h"
#include "test/support/healthy_backends.h"

#include "lb/balancing/least_connections_selector.h"
#include "lb/balancing/outlier_ejector.h"
#include "lb/balancing/passive_health.h"
#include "lb/balancing/round_robin_selector.h"

using namespace lb;
using namespace std::chrono_literals;

namespace {

using TimePoint = Backend::Clock::time_point;
const TimePoint kStart{std::chrono::hours(1)};

// Ejection alone: a breaker that never trips (its precedence is tested below).
BackendSettings ejection_only() {
  BackendSettings settings;
  settings.circuit.min_requests = 1000000;
  return settings;
}

BackendList make_backends(int count, const BackendSettings& settings = ejection_only()) {
  return test_support::healthy_backends(count, settings);
}

// One attempt as the request path records it: PassiveHealth first, then the
// ejector when an ejection is due. Returns the ejection's length (0: none).
std::chrono::milliseconds attempt(OutlierEjector& ejector, Backend& backend, const BackendList& pool, bool failed,
                                  TimePoint now) {
  AttemptVerdict verdict = backend.passive_health().record(CircuitTicket{}, !failed, ejector.after(), now);
  return verdict.ejection_due ? ejector.eject(backend, pool, now) : std::chrono::milliseconds(0);
}

// Records `n` failed attempts on `backend`; returns the last ejection duration (0: none).
std::chrono::milliseconds fail(OutlierEjector& ejector, Backend& backend, const BackendList& pool, int n,
                               TimePoint now) {
  std::chrono::milliseconds ejected{0};
  for (int i = 0; i < n; ++i) ejected = attempt(ejector, backend, pool, /*failed=*/true, now);
  return ejected;
}

}  // namespace

// Ejections in a row double (10, 20, 40 ... capped at 300 s); a clean period starts over.
TEST_CASE("ejection streak doubles, caps and resets", "[passive]") {
  EjectionSettings settings;  // base 10 s, max 300 s, clean period 300 s
  EjectionStreak streak;
  TimePoint now = kStart;
  std::vector<long> seconds;
  for (int i = 0; i < 7; ++i) {
    auto duration = streak.begin(now, settings);
    seconds.push_back(std::chrono::duration_cast<std::chrono::seconds>(duration).count());
    now += duration + 1s;  // fails again right after coming back
  }
  CHECK(seconds == std::vector<long>{10, 20, 40, 80, 160, 300, 300});
  now += 300s;  // five clean minutes after the last one ended
  CHECK(streak.begin(now, settings) == 10s);
}

// The fifth failure in a row ejects; a success in between starts the count over.
TEST_CASE("consecutive failures eject a backend", "[passive]") {
  OutlierEjector ejector(EjectionSettings{});
  BackendList pool = make_backends(3);
  Backend& a = *pool[0];
  CHECK(fail(ejector, a, pool, 4, kStart) == 0ms);
  CHECK(attempt(ejector, a, pool, /*failed=*/false, kStart) == 0ms);
  CHECK(fail(ejector, a, pool, 4, kStart) == 0ms);
  CHECK_FALSE(a.ejected(kStart));
  CHECK(fail(ejector, a, pool, 1, kStart) == 10s);
  CHECK(a.ejected(kStart));
  CHECK(a.ejected(kStart + 9999ms));
  CHECK_FALSE(a.ejected(kStart + 10s));
  CHECK(a.ejections_total == 1);

  // Selection skips it while ejected; the end is reported once.
  RoundRobinSelector selector(pool);
  SelectionContext during;
  during.now = kStart + 1s;
  for (int i = 0; i < 4; ++i) CHECK(selector.pick(during) != pool[0]);
  CHECK_FALSE(a.take_ejection_end(kStart + 9s));
  CHECK(a.take_ejection_end(kStart + 10s));
  CHECK_FALSE(a.take_ejection_end(kStart + 11s));
  CHECK_FALSE(a.ejected(kStart + 11s));

  // Ejected again soon after: twice as long.
  CHECK(fail(ejector, a, pool, 5, kStart + 12s) == 20s);
}

// Never more than half of a pool is out; a lone backend is never ejected; 0 turns it off.
TEST_CASE("ejection never takes more than half a pool", "[passive]") {
  OutlierEjector ejector(EjectionSettings{});
  BackendList pool = make_backends(3);
  CHECK(fail(ejector, *pool[0], pool, 5, kStart) == 10s);
  CHECK(fail(ejector, *pool[1], pool, 20, kStart) == 0ms);  // 2 of 3 would be more than half
  CHECK_FALSE(pool[1]->ejected(kStart));
  CHECK(fail(ejector, *pool[1], pool, 1, kStart + 10s) == 10s);  // pool[0] is back: now it may go

  BackendList lone = make_backends(1);
  CHECK(fail(ejector, *lone[0], lone, 50, kStart) == 0ms);

  EjectionSettings off;
  off.after = 0;
  OutlierEjector disabled(off);
  BackendList two = make_backends(2);
  CHECK(fail(disabled, *two[0], two, 50, kStart) == 0ms);
}

// Slow start: 10% at the return, full weight after --slow-start, linear between.
TEST_CASE("slow start ramps the selection weight", "[passive]") {
  BackendSettings settings;
  settings.slow_start = 100s;
  BackendList pool = make_backends(2, settings);
  Backend& b = *pool[1];
  CHECK(b.selection_weight(kStart) == 100);  // start-up: no ramp
  b.start_ramp(kStart);
  CHECK(b.selection_weight(kStart) == 10);
  CHECK(b.selection_weight(kStart + 50s) == 55);
  CHECK(b.selection_weight(kStart + 100s) == 100);
  CHECK(b.selection_weight(kStart - 5s) == 10);

  // Round-robin: 10 to 1 while b is at 10%.
  RoundRobinSelector round_robin(pool);
  SelectionContext at_return;
  at_return.now = kStart;
  int to_b = 0;
  for (int i = 0; i < 110; ++i) to_b += round_robin.pick(at_return) == pool[1];
  CHECK(to_b == 10);

  // Least connections weighs active requests by the ramped weight.
  LeastConnectionsSelector least(pool);
  pool[0]->active_requests = 3;
  pool[1]->active_requests = 1;  // 1/10% is more loaded than 3/100%
  CHECK(least.pick(at_return) == pool[0]);
  SelectionContext later;
  later.now = kStart + 100s;
  CHECK(least.pick(later) == pool[1]);
}

// What starts a ramp: a health return and an ejection's end, not the start-up round.
TEST_CASE("returns to service start a ramp", "[passive]") {
  BackendSettings settings;
  settings.slow_start = 3600s;
  BackendList pool = make_backends(2, settings);
  const auto now = Backend::Clock::now();
  CHECK(pool[0]->selection_weight(now) == 100);
  pool[0]->record_check(false, "status 503");
  pool[0]->record_check(true, "200");
  CHECK(pool[0]->selection_weight(Backend::Clock::now()) < 11);

  pool[1]->eject_until(now + 10s, now);
  CHECK(pool[1]->selection_weight(now + 10s) == 10);

  Backend added(BackendSpec{"http", "127.0.0.1", 8009, 2}, settings, "default", /*joins_at_runtime=*/true);
  added.record_check(true, "200");  // an admin-added backend's first pass is a return
  CHECK(added.selection_weight(Backend::Clock::now()) < 21);
}

namespace {

// One row of a passive-health timetable: what happens, then the state it leaves.
enum class Do { Fail, Succeed, Wait, Admit };
struct Row {
  Do what;
  std::chrono::milliseconds wait;  // for Wait
  PassiveState expect;
  bool flag = false;  // Fail: an ejection is due (the ejector then ejects for 10 s); Admit: admitted
};

// Plays `rows` on `health` with a made-up clock; `eject_after` as --eject-after.
void play(PassiveHealth& health, test_support::FakeClock& clock, int eject_after, const std::vector<Row>& rows) {
  CircuitTicket ticket;  // the latest admit()'s, used by the next outcome
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    INFO("row " << i);
    switch (row.what) {
      case Do::Wait:
        clock.now += row.wait;
        health.take_ejection_end(clock.now);
        break;
      case Do::Admit:
        ticket = health.admit(nullptr);
        CHECK(static_cast<bool>(ticket) == row.flag);
        break;
      case Do::Fail:
      case Do::Succeed: {
        AttemptVerdict verdict = health.record(ticket, row.what == Do::Succeed, eject_after, clock.now);
        ticket = CircuitTicket{true, 0};  // the next attempt, admitted while closed
        CHECK(verdict.ejection_due == row.flag);
        if (verdict.ejection_due) CHECK(health.eject_until(clock.now + 10s, clock.now));
        break;
      }
    }
    CHECK(to_string(health.state(clock.now)) == std::string(to_string(row.expect)));
  }
}

}  // namespace

// The breaker and ejection on one failure signal: the breaker governs, so
// the user's --cb-* settings hold with ejection on (README "Failure modes").
TEST_CASE("passive health: breaker and ejection as one state", "[passive]") {
  using S = PassiveState;
  test_support::FakeClock clock;

  SECTION("--cb-failure-ratio 0.5 --cb-min-requests 5 --cb-open-seconds 2, --eject-after 5") {
    CircuitSettings circuit;
    circuit.min_requests = 5;
    circuit.open_for = 2s;
    circuit.half_open_trials = 1;
    PassiveHealth health(circuit, clock.fn());
    play(health, clock, 5,
         {{Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::CircuitOpen, false},  // both thresholds at once: the circuit opens, no ejection
          {Do::Wait, 1999ms, S::CircuitOpen},
          {Do::Admit, 0ms, S::CircuitOpen, false},
          {Do::Wait, 1ms, S::CircuitOpen},
          {Do::Admit, 0ms, S::HalfOpen, true},  // the trial the user asked for, after 2 s
          {Do::Fail, 0ms, S::CircuitOpen},      // the trial fails: open again, still no ejection
          {Do::Wait, 2s, S::CircuitOpen},
          {Do::Admit, 0ms, S::HalfOpen, true},
          {Do::Succeed, 0ms, S::Serving},  // closed, with a fresh window and no streak
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::CircuitOpen, false}});
    CHECK(health.failures_in_a_row() == 0);
    CHECK_FALSE(health.eject_until(clock.now + 10s, clock.now));  // never while the breaker governs
  }

  SECTION("defaults: --eject-after 5 before the breaker's 10 requests") {
    PassiveHealth health(CircuitSettings{}, clock.fn());  // ratio 0.5 of 10 in 10 s, open 30 s, 3 trials
    play(health, clock, 5,
         {{Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Ejected, true},  // a streak the breaker did not trip on: ejected 10 s
          {Do::Wait, 9999ms, S::Ejected},
          {Do::Wait, 1ms, S::Serving},  // back (the breaker's window lost the first failures meanwhile)
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Serving},
          {Do::Fail, 0ms, S::Ejected, true},
          // Requests sent before the ejection fail after it began: the streak
          // goes on but ejects nothing more; the tenth failure in the window
          // opens the circuit, which ends the ejection: the breaker's clock now.
          {Do::Fail, 0ms, S::Ejected, false},
          {Do::Fail, 0ms, S::Ejected, false},
          {Do::Fail, 0ms, S::Ejected, false},
          {Do::Fail, 0ms, S::Ejected, false},
          {Do::Fail, 0ms, S::CircuitOpen, false},
          {Do::Wait, 30s, S::CircuitOpen},
          {Do::Admit, 0ms, S::HalfOpen, true}});
    CHECK_FALSE(health.ejected(clock.now));
  }

  SECTION("--eject-after 0: the breaker alone") {
    CircuitSettings circuit;
    circuit.min_requests = 3;
    PassiveHealth health(circuit, clock.fn());
    play(health, clock, 0,
         {{Do::Fail, 0ms, S::Serving}, {Do::Fail, 0ms, S::Serving}, {Do::Fail, 0ms, S::CircuitOpen}});
  }
}
