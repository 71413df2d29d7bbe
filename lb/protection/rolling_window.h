// Counts over a sliding window of time, kept in 10 buckets of a tenth of the
// window each, so a count stays in the sums for between 9/10 of the window and
// the whole window. Pure: its owner locks it and passes "now". The circuit
// breaker counts requests and failures in one, the retry budget deposits and
// withdrawals.
//
//   struct Counts { int requests = 0; int failures = 0;
//                   Counts& operator+=(const Counts& o) { ... } };
//   RollingWindow<Counts> window(clock(), std::chrono::seconds(10));
//   ++window.at(now).requests;
//   Counts last_10_s = window.sum(now);
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>

namespace lb {

template <typename Counts>  // a struct of counters with operator+=
class RollingWindow {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr int kBuckets = 10;

  // Slot 0 begins at `epoch`; a clock that steps back before it counts in slot 0.
  RollingWindow(TimePoint epoch, std::chrono::milliseconds window) : epoch_(epoch) { set_window(window); }

  // The counts of the bucket `now` falls in (a bucket whose period has left the window starts over).
  Counts& at(TimePoint now) {
    const long long slot = slot_at(now);
    Bucket& bucket = buckets_[static_cast<std::size_t>(slot % kBuckets)];
    if (bucket.slot != slot) bucket = Bucket{slot, Counts{}};
    return bucket.counts;
  }

  // The counts of the window that ends at `now`: its bucket and the kBuckets - 1 before it.
  Counts sum(TimePoint now) const {
    const long long slot = slot_at(now);
    Counts total{};
    for (const Bucket& bucket : buckets_) {
      if (bucket.slot > slot - kBuckets && bucket.slot <= slot) total += bucket.counts;
    }
    return total;
  }

  // Forgets every count.
  void clear() { buckets_.fill(Bucket{}); }

  // A new window length; every count is forgotten.
  void set_window(std::chrono::milliseconds window) {
    width_ = std::max(std::chrono::duration_cast<std::chrono::steady_clock::duration>(window) / kBuckets,
                      std::chrono::steady_clock::duration{1});
    clear();
  }

 private:
  struct Bucket {
    long long slot = -1;  // which bucket-width period since epoch_ these counts belong to
    Counts counts{};
  };

  long long slot_at(TimePoint now) const {
    if (now <= epoch_) return 0;  // a fake clock may step back; never index negatively
    return static_cast<long long>((now - epoch_) / width_);
  }

  TimePoint epoch_;
  std::chrono::steady_clock::duration width_{1};
  std::array<Bucket, kBuckets> buckets_{};  // slot s lives at s % kBuckets
};

}  // namespace lb
