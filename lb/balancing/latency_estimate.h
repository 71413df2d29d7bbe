// How soon a backend is expected to answer, for --algorithm least-latency
// (README "Least latency"): the peak-EWMA of Finagle and Linkerd over the
// time to a response's first byte, and the requests in flight. Pure, with
// the time passed in, so a test scripts latencies on a made-up clock.
//
//   - A sample above the average replaces it at once (a backend that slows
//     down is seen slow at its first slow answer); below, the average moves
//     towards it with weight 1 - exp(-elapsed / decay).
//   - Read without new samples, the average decays towards zero over the same
//     time, so a backend that was slow gets a request again now and then and
//     shows when it has recovered.
//   - A failed attempt or a 5xx answer counts as at least twice the average
//     (and 100 ms; at most 10 s unless it took longer): answering fast with
//     errors earns no traffic.
//   - A request in flight longer than the average (a stalled backend) makes
//     its age the latency: nothing has to come back for it to count.
#pragma once

#include <chrono>
#include <set>

namespace lb {

class LatencyEstimate {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr double kFailurePenaltyMs = 100;
  static constexpr double kMaxFailurePenaltyMs = 10000;  // failures in a row double it up to here, not without end

  explicit LatencyEstimate(std::chrono::milliseconds decay = std::chrono::seconds(10)) : decay_(decay) {}
  void set_decay(std::chrono::milliseconds decay) { decay_ = decay; }

  // A request was sent at `now`; returns what end() needs to find it again.
  std::multiset<Clock::time_point>::iterator begin(Clock::time_point now) { return in_flight_.insert(now); }
  // It ended: `first_byte_ms` after it was sent (or when it failed), `failed`
  // when it failed or answered 5xx.
  void end(std::multiset<Clock::time_point>::iterator started, double first_byte_ms, bool failed,
           Clock::time_point now);

  // It ended without a sample.
  void cancel(std::multiset<Clock::time_point>::iterator started) { in_flight_.erase(started); }

  bool known() const { return samples_ > 0; }
  // The decayed average at `now` (0 when nothing is known).
  double average_ms(Clock::time_point now) const;
  // What least-latency compares: the average, or the age of the oldest
  // request in flight when that is longer.
  double latency_ms(Clock::time_point now) const;

 private:
  double decayed(Clock::time_point now) const;
  std::chrono::milliseconds decay_;
  double average_ms_ = 0;
  Clock::time_point stamp_{};
  long samples_ = 0;
  std::multiset<Clock::time_point> in_flight_;  // when each request in flight was sent
};

// The cost least-latency minimises: latency x (requests in flight + 1) /
// weight, and / the backend's limit when it has one (--max-requests: what
// it can hold at once, so a backend that learned it holds 2 is not given as
// many as one that holds 30).
double least_latency_cost(double latency_ms, long in_flight, long weight, long max_requests = 0);

}  // namespace lb
