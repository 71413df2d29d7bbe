#include "lb/protection/fault_injection.h"

namespace lb {

bool FaultSettings::operator==(const FaultSettings& other) const {
  return abort_percent == other.abort_percent && abort_status == other.abort_status && delay_ms == other.delay_ms &&
         delay_percent == other.delay_percent && fail_health == other.fail_health;
}

FaultPlan plan_fault(const FaultSettings& fault, const std::function<double()>& roll,
                     std::chrono::steady_clock::time_point now,
                     std::chrono::steady_clock::time_point first_byte_deadline) {
  FaultPlan plan;
  plan.forward_at = now;
  // A percentage p hits when a roll in [0, 1) is below p/100: 0 never, 100 always.
  if (fault.delay_ms > 0 && roll() * 100 < fault.delay_percent) {
    plan.delay = std::chrono::milliseconds(fault.delay_ms);
    plan.forward_at = now + plan.delay;
    if (plan.forward_at >= first_byte_deadline) {
      plan.times_out = true;  // the client's wait ends first: nothing more happens
      return plan;
    }
  }
  if (fault.abort_percent > 0 && roll() * 100 < fault.abort_percent) {
    plan.abort = true;
    plan.abort_status = fault.abort_status;
  }
  return plan;
}

}  // namespace lb
