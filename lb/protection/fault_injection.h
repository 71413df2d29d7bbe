// Faults an operator injects on the load balancer's side of one backend
// (admin API `PUT /backends/{id}/fault`), so a workshop can break any service,
// not only our backend_server: delay a share of its requests, abort a share
// with a status (the backend is never contacted), hold back its answers so
// they come F times later (its health checks still pass: a gray failure), or
// fail its health checks.
//
// Pure logic: the dice and the clock are passed in, so tests decide both.
#pragma once

#include <chrono>
#include <functional>

namespace lb {

struct FaultSettings {
  double abort_percent = 0;    // 0-100: share of attempts answered by us with abort_status
  int abort_status = 503;      // 400-599
  int delay_ms = 0;            // 0-60000: how long a delayed attempt waits before it is forwarded
  double delay_percent = 100;  // 0-100: share of attempts delayed (when delay_ms > 0)
  bool fail_health = false;    // the backend's health checks fail without probing it
  double slow_factor = 1;      // 1-100: each response head comes this many times later than it came (1: off)

  // Whether it changes anything at all (an empty fault is no fault).
  bool active() const {
    return abort_percent > 0 || (delay_ms > 0 && delay_percent > 0) || fail_health || slow_factor > 1;
  }
  bool operator==(const FaultSettings& other) const;
};

// What one attempt on a faulty backend does, in order: wait until `forward_at`
// (a delay counts against the attempt's wait for a first response byte, as a
// slow backend would), then either abort or go on to the backend.
struct FaultPlan {
  std::chrono::steady_clock::time_point forward_at;  // == now when not delayed
  std::chrono::milliseconds delay{0};                 // the injected delay (0: none)
  bool times_out = false;  // the delay outlasts `first_byte_deadline`: the attempt is a timeout there
  bool abort = false;      // answer with `abort_status` instead of forwarding
  int abort_status = 0;
};

// `roll` returns a uniform number in [0, 1); it is called once for the delay
// and once for the abort (Envoy's order: delay first, then abort).
FaultPlan plan_fault(const FaultSettings& fault, const std::function<double()>& roll,
                     std::chrono::steady_clock::time_point now,
                     std::chrono::steady_clock::time_point first_byte_deadline);

// What `slow_factor` does to one attempt once the backend's response head has
// come: it is held until `release_at`, so the time from forwarding to the
// first byte seen is slow_factor times what the backend took. The hold counts
// against the wait for a first byte, as a delay does.
struct SlowAnswerPlan {
  std::chrono::steady_clock::time_point release_at;  // == first_byte_at when not slowed
  std::chrono::milliseconds hold{0};                  // release_at - first_byte_at, rounded down
  bool times_out = false;  // the hold outlasts `first_byte_deadline`: the attempt is a timeout there
};

SlowAnswerPlan plan_slow_answer(const FaultSettings& fault, std::chrono::steady_clock::time_point forwarded_at,
                                std::chrono::steady_clock::time_point first_byte_at,
                                std::chrono::steady_clock::time_point first_byte_deadline);

}  // namespace lb
