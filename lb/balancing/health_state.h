// Rise/fall thresholds for one backend's health (pure logic, no clock, no I/O).
//
// Like HAProxy's `rise`/`fall`: a healthy backend goes down after `fall`
// consecutive failed checks, an unhealthy one comes back after `rise`
// consecutive passes, so one lost probe does not make a backend flap.
#pragma once

namespace lb {

class HealthState {
 public:
  HealthState(int rise, int fall) : rise_(rise < 1 ? 1 : rise), fall_(fall < 1 ? 1 : fall) {}

  // Records one check result. The very first result decides the state at once
  // (start-up must not wait `rise` rounds). Returns true when the verdict flips.
  bool record(bool passed) {
    if (!decided_) {
      decided_ = true;
      healthy_ = passed;
      streak_ = 0;
      return true;
    }
    if (passed == healthy_) {
      streak_ = 0;  // agreement resets the run of contrary results
      return false;
    }
    if (++streak_ >= (healthy_ ? fall_ : rise_)) {
      healthy_ = passed;
      streak_ = 0;
      return true;
    }
    return false;
  }

  // Passive failure (e.g. connection refused while proxying): down at once.
  // Returns true when this changed the verdict.
  bool force_down() {
    bool was_healthy = healthy_ || !decided_;
    decided_ = true;
    healthy_ = false;
    streak_ = 0;
    return was_healthy;
  }

  bool healthy() const { return healthy_; }
  bool decided() const { return decided_; }
  // New thresholds (SIGHUP); the verdict and the current run are kept.
  void set_thresholds(int rise, int fall) {
    rise_ = rise < 1 ? 1 : rise;
    fall_ = fall < 1 ? 1 : fall;
  }

 private:
  int rise_;
  int fall_;
  bool decided_ = false;
  bool healthy_ = false;
  int streak_ = 0;  // consecutive results that disagree with healthy_
};

}  // namespace lb
