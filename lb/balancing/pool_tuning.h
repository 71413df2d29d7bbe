// What an operator tunes per pool, at start (flags, config) and at run time
// (admin PUT /pools/{name}): how many requests a backend may hold, and when a
// slow request is hedged (README "Queues and overload", "Hedged requests").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace lb {

// --max-requests: no limit (0), a fixed number, or one learned from latency ("auto").
struct RequestLimit {
  enum class Mode { None, Fixed, Auto };
  Mode mode = Mode::None;
  int fixed = 0;  // Mode::Fixed: 1..100000

  bool limited() const { return mode != Mode::None; }
  std::string text() const;  // "0", "8" or "auto"
  bool operator==(const RequestLimit& other) const { return mode == other.mode && fixed == other.fixed; }
  // "auto", "0" or a whole number up to 100000; nullopt otherwise.
  static std::optional<RequestLimit> parse(std::string_view text);
};

// --hedge-after: off, after a fixed time, or after the pool's recent 95th percentile ("auto").
struct HedgePolicy {
  enum class Mode { Off, Fixed, Auto };
  Mode mode = Mode::Off;
  std::chrono::milliseconds after{0};  // Mode::Fixed: 1..60000

  std::string text() const;  // "off", "50" or "auto"
  bool operator==(const HedgePolicy& other) const { return mode == other.mode && after == other.after; }
  // "off", "auto" or whole milliseconds 1..60000; nullopt otherwise.
  static std::optional<HedgePolicy> parse(std::string_view text);
};

}  // namespace lb
