// plan_fault() and plan_slow_answer(): the dice and the clock are the test's.
#include <catch2/catch.hpp>

#include <deque>

#include "lb/protection/fault_injection.h"
#include "test/support/fake_clock.h"

using namespace lb;
using namespace std::chrono_literals;

namespace {

// Hands out the given rolls in order, and counts how many were asked for.
struct ScriptedRolls {
  std::deque<double> rolls;
  int asked = 0;
  std::function<double()> fn() {
    return [this] {
      ++asked;
      REQUIRE(!rolls.empty());
      double roll = rolls.front();
      rolls.pop_front();
      return roll;
    };
  }
};

}  // namespace

TEST_CASE("fault plan: a percentage hits rolls below it", "[fault]") {
  test_support::FakeClock clock;
  const auto deadline = clock.now + 10s;
  FaultSettings fault;
  fault.abort_percent = 25;
  fault.abort_status = 502;

  ScriptedRolls dice{{0.2499, 0.25, 0.0, 0.9999}};
  FaultPlan hit = plan_fault(fault, dice.fn(), clock.now, deadline);
  CHECK(hit.abort);
  CHECK(hit.abort_status == 502);
  CHECK(hit.forward_at == clock.now);
  CHECK(hit.delay == 0ms);
  CHECK_FALSE(plan_fault(fault, dice.fn(), clock.now, deadline).abort);  // 0.25 is not below 25%
  CHECK(plan_fault(fault, dice.fn(), clock.now, deadline).abort);
  CHECK_FALSE(plan_fault(fault, dice.fn(), clock.now, deadline).abort);
  CHECK(dice.asked == 4);  // no delay configured: one roll each

  fault.abort_percent = 100;
  ScriptedRolls highest{{0.9999999}};
  CHECK(plan_fault(fault, highest.fn(), clock.now, deadline).abort);  // 100% always
  fault.abort_percent = 0;
  ScriptedRolls none;
  CHECK_FALSE(plan_fault(fault, none.fn(), clock.now, deadline).abort);  // 0%: no roll at all
  CHECK(none.asked == 0);
}

TEST_CASE("fault plan: delay first, then abort", "[fault]") {
  test_support::FakeClock clock;
  FaultSettings fault;
  fault.delay_ms = 500;
  fault.delay_percent = 50;
  fault.abort_percent = 50;

  ScriptedRolls both{{0.1, 0.1}};
  FaultPlan plan = plan_fault(fault, both.fn(), clock.now, clock.now + 2s);
  CHECK(plan.delay == 500ms);
  CHECK(plan.forward_at == clock.now + 500ms);
  CHECK_FALSE(plan.times_out);
  CHECK(plan.abort);
  CHECK(plan.abort_status == 503);  // the default

  ScriptedRolls delay_only{{0.1, 0.9}};
  plan = plan_fault(fault, delay_only.fn(), clock.now, clock.now + 2s);
  CHECK(plan.delay == 500ms);
  CHECK_FALSE(plan.abort);

  ScriptedRolls abort_only{{0.9, 0.1}};
  plan = plan_fault(fault, abort_only.fn(), clock.now, clock.now + 2s);
  CHECK(plan.delay == 0ms);
  CHECK(plan.forward_at == clock.now);
  CHECK(plan.abort);
}

// A delay counts against the wait for a first byte: one that outlasts it is a
// timeout at that deadline, and nothing else is decided.
TEST_CASE("fault plan: a delay past the first-byte deadline is a timeout", "[fault]") {
  test_support::FakeClock clock;
  FaultSettings fault;
  fault.delay_ms = 1000;  // delay_percent defaults to 100
  fault.abort_percent = 100;

  ScriptedRolls dice{{0.5}};
  FaultPlan plan = plan_fault(fault, dice.fn(), clock.now, clock.now + 300ms);
  CHECK(plan.times_out);
  CHECK_FALSE(plan.abort);
  CHECK(dice.asked == 1);

  ScriptedRolls exact{{0.5}};
  CHECK(plan_fault(fault, exact.fn(), clock.now, clock.now + 1000ms).times_out);  // the deadline comes first
  ScriptedRolls inside{{0.5, 0.5}};
  plan = plan_fault(fault, inside.fn(), clock.now, clock.now + 1001ms);
  CHECK_FALSE(plan.times_out);
  CHECK(plan.abort);
}

TEST_CASE("fault settings: an empty fault is no fault", "[fault]") {
  FaultSettings fault;
  CHECK_FALSE(fault.active());
  fault.delay_percent = 0;
  fault.delay_ms = 100;
  CHECK_FALSE(fault.active());  // delayed 0% of the time
  fault.delay_percent = 1;
  CHECK(fault.active());
  CHECK_FALSE(FaultSettings{} == fault);
  FaultSettings health;
  health.fail_health = true;
  CHECK(health.active());
  FaultSettings slow;
  slow.slow_factor = 1;
  CHECK_FALSE(slow.active());  // 1x is as fast as it is
  slow.slow_factor = 1.5;
  CHECK(slow.active());
  CHECK_FALSE(FaultSettings{} == slow);
}

// slow_factor F: the head the backend sent after T is let through after F x T
// from forwarding, i.e. held (F - 1) x T; past the first-byte deadline it is a timeout.
TEST_CASE("slow answer plan: held (F - 1) times what the backend took", "[fault]") {
  test_support::FakeClock clock;
  const auto forwarded = clock.now;
  const auto deadline = forwarded + 10s;
  FaultSettings fault;
  fault.slow_factor = 5;

  SlowAnswerPlan plan = plan_slow_answer(fault, forwarded, forwarded + 40ms, deadline);
  CHECK(plan.release_at == forwarded + 200ms);
  CHECK(plan.hold == 160ms);
  CHECK_FALSE(plan.times_out);

  fault.slow_factor = 2.5;
  plan = plan_slow_answer(fault, forwarded, forwarded + 100ms, deadline);
  CHECK(plan.release_at == forwarded + 250ms);
  CHECK(plan.hold == 150ms);

  fault.slow_factor = 1;  // off: let through at once
  plan = plan_slow_answer(fault, forwarded, forwarded + 100ms, deadline);
  CHECK(plan.release_at == forwarded + 100ms);
  CHECK(plan.hold == 0ms);
  CHECK_FALSE(plan.times_out);
}

TEST_CASE("slow answer plan: a hold past the first-byte deadline is a timeout", "[fault]") {
  test_support::FakeClock clock;
  const auto forwarded = clock.now;
  FaultSettings fault;
  fault.slow_factor = 10;

  // 50 ms x 10 = 500 ms: inside a 501 ms wait, not inside a 500 ms one (the deadline comes first).
  CHECK_FALSE(plan_slow_answer(fault, forwarded, forwarded + 50ms, forwarded + 501ms).times_out);
  const SlowAnswerPlan late = plan_slow_answer(fault, forwarded, forwarded + 50ms, forwarded + 500ms);
  CHECK(late.times_out);
  CHECK(late.hold == 450ms);  // what it would have held, for the trace
  CHECK(plan_slow_answer(fault, forwarded, forwarded + 50ms, forwarded + 300ms).times_out);
}
