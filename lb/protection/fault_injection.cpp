#include "lb/protection/fault_injection.h"

namespace lb {

bool FaultSettings::operator==(const FaultSettings& other) const {
  return abort_percent == other.abort_percent && abort_status == other.abort_status && delay_ms == other.delay_ms &&
         delay_percent == other.delay_percent && fail_health == other.fail_health && slow_factor == other.slow_factor;
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

SlowAnswerPlan plan_slow_answer(const FaultSettings& fault, std::chrono::steady_clock::time_point forwarded_at,
                                std::chrono::steady_clock::time_point first_byte_at,
                                std::chrono::steady_clock::time_point first_byte_deadline) {
  SlowAnswerPlan plan;
  plan.release_at = first_byte_at;
  if (fault.slow_factor <= 1 || first_byte_at <= forwarded_at) return plan;
  const auto took = std::chrono::duration<double>(first_byte_at - forwarded_at);
  const auto hold = std::chrono::duration_cast<std::chrono::steady_clock::duration>(took * (fault.slow_factor - 1));
  plan.release_at = first_byte_at + hold;
  plan.hold = std::chrono::duration_cast<std::chrono::milliseconds>(hold);
  if (plan.release_at >= first_byte_deadline) plan.times_out = true;  // the client's wait ends first
  return plan;
}

}  // namespace lb
