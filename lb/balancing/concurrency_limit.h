// --max-requests auto (README "Queues and overload"): one backend's limit on
// requests in flight, learned from its response times, after the gradient
// limit of Netflix's concurrency-limits. Pure, with the time passed in, so a
// test drives it with a simulated backend on a made-up clock.
//
//   - Response times are averaged over windows (at least kWindowSamples and
//     kWindowTime), so one slow answer moves nothing.
//   - The unloaded latency is what the backend takes for a request it holds
//     alone (nothing can queue in front of it): the decaying average of
//     those answers (weight kAloneWeight) once kAloneSamples came; until
//     then the lowest window average. Sustained load gives neither a new
//     value, so the reference does not creep up with the load itself.
//   - At each window: gradient = kTolerance x unloaded / average, between
//     0.5 and 1; limit = limit x gradient + sqrt(limit). Near its unloaded
//     latency a backend's limit grows by sqrt(limit) a window; when its
//     latency rises (requests queue inside it) the limit shrinks, at most by
//     half a window. It grows only while the backend was busy with at least
//     half of it (an idle backend proves nothing).
#pragma once

#include <chrono>

namespace lb {

class ConcurrencyLimit {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr double kInitial = 8, kMin = 1, kMax = 1000;
  static constexpr int kWindowSamples = 20;
  static constexpr std::chrono::milliseconds kWindowTime{100};
  static constexpr double kTolerance = 1.5;
  static constexpr double kAloneWeight = 0.05;
  static constexpr int kAloneSamples = 10;

  // One answered request: `latency_ms` to its first byte, `in_flight` the
  // requests the backend held when it was sent. Returns the limit.
  int on_sample(double latency_ms, int in_flight, Clock::time_point now);
  int limit() const { return static_cast<int>(limit_); }
  double unloaded_ms() const { return alone_samples_ >= kAloneSamples ? alone_ms_ : lowest_window_ms_; }

 private:
  void close_window();

  double limit_ = kInitial;
  double lowest_window_ms_ = 0;  // 0: no window yet
  double alone_ms_ = 0;          // decaying average of answers given alone
  int alone_samples_ = 0;
  double window_sum_ms_ = 0;
  int window_samples_ = 0;
  int window_busiest_ = 0;  // most requests in flight seen in this window
  Clock::time_point window_start_{};
};

}  // namespace lb
