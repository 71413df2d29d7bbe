#include "lb/balancing/pool_tuning.h"

#include <charconv>

namespace lb {

namespace {

// A whole number in [low, high], all of `text`.
std::optional<long> whole_number(std::string_view text, long low, long high) {
  long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) return std::nullopt;
  return value;
}

}  // namespace

std::string RequestLimit::text() const {
  switch (mode) {
    case Mode::None: return "0";
    case Mode::Fixed: return std::to_string(fixed);
    case Mode::Auto: return "auto";
  }
  return "0";
}

std::optional<RequestLimit> RequestLimit::parse(std::string_view text) {
  if (text == "auto") return RequestLimit{Mode::Auto, 0};
  const std::optional<long> number = whole_number(text, 0, 100000);
  if (!number) return std::nullopt;
  if (*number == 0) return RequestLimit{};
  return RequestLimit{Mode::Fixed, static_cast<int>(*number)};
}

std::string HedgePolicy::text() const {
  switch (mode) {
    case Mode::Off: return "off";
    case Mode::Fixed: return std::to_string(after.count());
    case Mode::Auto: return "auto";
  }
  return "off";
}

std::optional<HedgePolicy> HedgePolicy::parse(std::string_view text) {
  if (text == "off") return HedgePolicy{};
  if (text == "auto") return HedgePolicy{Mode::Auto, {}};
  const std::optional<long> number = whole_number(text, 1, 60000);
  if (!number) return std::nullopt;
  return HedgePolicy{Mode::Fixed, std::chrono::milliseconds(*number)};
}

}  // namespace lb
