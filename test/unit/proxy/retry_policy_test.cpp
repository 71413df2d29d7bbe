// Which requests may be replayed on another backend after they were sent.
#include <catch2/catch.hpp>

#include "lb/proxy/retry_policy.h"

using lb::is_replayable;
using lb::jittered_try_timeout;

// Idempotent methods without a body may be replayed.
TEST_CASE("idempotent requests without a body are replayable", "[retry]") {
  for (auto method : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    INFO(method);
    CHECK(is_replayable(method, /*has_body=*/false));
  }
}

// POST and PATCH never are, nor anything whose body was streamed away, nor unknown methods.
TEST_CASE("POST, PATCH, bodies and unknown methods are never replayed", "[retry]") {
  CHECK_FALSE(is_replayable("POST", false));
  CHECK_FALSE(is_replayable("PATCH", false));
  CHECK_FALSE(is_replayable("POST", true));
  CHECK_FALSE(is_replayable("PUT", true));
  CHECK_FALSE(is_replayable("GET", true));
  CHECK_FALSE(is_replayable("BREW", false));
  CHECK_FALSE(is_replayable("get", false));  // methods are case-sensitive
}

// A try waits a random point in the last quarter of --try-timeout, never more.
TEST_CASE("try timeout jitter", "[retry]") {
  using std::chrono::milliseconds;
  CHECK(jittered_try_timeout(milliseconds(1000), 0.0) == milliseconds(750));
  CHECK(jittered_try_timeout(milliseconds(1000), 0.5) == milliseconds(875));
  CHECK(jittered_try_timeout(milliseconds(1000), 0.9999) == milliseconds(999));
  CHECK(jittered_try_timeout(milliseconds(60000), 0.2) == milliseconds(48000));
}

// A shorter --try-timeout splits --backend-timeout among the tries; with the
// default each try has all of it, and a timed-out one is still retried.
TEST_CASE("how long all tries of a request may take", "[retry]") {
  using std::chrono::milliseconds;
  using lb::all_tries_timeout;
  CHECK(all_tries_timeout(milliseconds(2000), milliseconds(500), 1) == milliseconds(2000));
  CHECK(all_tries_timeout(milliseconds(2000), milliseconds(2000), 1) == milliseconds(4000));
  CHECK(all_tries_timeout(milliseconds(2000), milliseconds(2000), 0) == milliseconds(2000));
  CHECK(all_tries_timeout(milliseconds(1000), milliseconds(1000), 3) == milliseconds(4000));
}
