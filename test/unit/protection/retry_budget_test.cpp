// The retry budget on a made-up clock: a share of the last 10 s of requests,
// a floor per second, expiry after the window.
#include <catch2/catch.hpp>

#include "lb/protection/retry_budget.h"
#include "test/support/fake_clock.h"

using lb::RetryBudget;
using namespace std::chrono_literals;

namespace {

// Retries `n` times; returns how many the budget allowed.
int retry(RetryBudget& budget, int n) {
  int allowed = 0;
  for (int i = 0; i < n; ++i) allowed += budget.try_withdraw();
  return allowed;
}

}  // namespace

// Ten seconds of steady traffic save enough for a frozen backend's requests to
// all time out and be retried in the same millisecond.
TEST_CASE("retry budget: a burst of timeouts after steady traffic passes", "[retry_budget]") {
  test_support::FakeClock clock;
  RetryBudget budget(20, clock.fn());
  for (int second = 0; second < 10; ++second) {
    for (int i = 0; i < 100; ++i) budget.deposit();  // 100 requests a second, none failing
    clock.now += 1s;
  }
  clock.now -= 1ms;  // still inside the window of the first second's deposits
  CHECK(retry(budget, 150) == 150);  // 11 stuck connections would be plenty; 150 of 200 still pass
  CHECK(retry(budget, 100) == 50);   // 20% of 1000, and no more
}

// Every request fails and is retried: at most 1 + 20% requests reach backends,
// however long it lasts.
TEST_CASE("retry budget: a total outage is capped at 1 + percent", "[retry_budget]") {
  test_support::FakeClock clock;
  RetryBudget budget(20, clock.fn());
  int requests = 0, retries = 0;
  for (int tick = 0; tick < 60 * 100; ++tick) {  // 60 s at 100 requests a second
    budget.deposit();
    ++requests;
    retries += budget.try_withdraw();
    clock.now += 10ms;
  }
  const double ratio = static_cast<double>(requests + retries) / requests;
  CHECK(ratio <= 1.2 + 0.001);  // the floor adds nothing while the share allows 20/s
  CHECK(ratio >= 1.19);
  // The integration test's case: 20 requests at once, all retried at once: 4 retries.
  RetryBudget fresh(20, clock.fn());
  for (int i = 0; i < 20; ++i) fresh.deposit();
  clock.now += 450ms;
  CHECK(retry(fresh, 20) == 4);
}

// Without traffic the floor still allows 3 retries a second, refilled over time.
TEST_CASE("retry budget: the floor per second", "[retry_budget]") {
  test_support::FakeClock clock;
  RetryBudget budget(20, clock.fn());
  CHECK(retry(budget, 5) == RetryBudget::kMinRetriesPerSecond);
  clock.now += 333ms;
  CHECK(retry(budget, 5) == 0);  // 0.999 of a token
  clock.now += 1ms;
  CHECK(retry(budget, 5) == 1);
  clock.now += 10s;
  CHECK(retry(budget, 5) == 3);  // refilled, never beyond 3

  RetryBudget none(0, clock.fn());  // --retry-budget 0: the floor only
  for (int i = 0; i < 1000; ++i) none.deposit();
  CHECK(retry(none, 10) == 3);
}

// Deposits and withdrawals count for the window (10 s) and then expire.
TEST_CASE("retry budget: deposits expire after the window", "[retry_budget]") {
  test_support::FakeClock clock;
  RetryBudget budget(20, clock.fn());
  for (int i = 0; i < 100; ++i) budget.deposit();
  CHECK(budget.window_deposits() == 100);
  clock.now += 9s;
  CHECK(budget.window_deposits() == 100);
  CHECK(retry(budget, 10) == 10);
  clock.now += 1s;  // the deposits are gone; the retries, made at 9 s, count until 19 s
  CHECK(budget.window_deposits() == 0);
  CHECK(budget.window_withdrawals() == 10);
  CHECK(retry(budget, 30) == 3);  // the floor only
  clock.now += 10s;
  CHECK(budget.window_withdrawals() == 0);

  // SIGHUP: a new share applies to what is deposited.
  for (int i = 0; i < 100; ++i) budget.deposit();
  budget.set_percent(50);
  CHECK(retry(budget, 100) == 50);
}
