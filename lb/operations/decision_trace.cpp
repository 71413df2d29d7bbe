#include "lb/operations/decision_trace.h"

#include <algorithm>

namespace lb {

std::string candidate_standing(const Backend& backend, const SelectionContext& selection) {
  if (std::find(selection.avoid.begin(), selection.avoid.end(), &backend) != selection.avoid.end()) return "tried";
  if (!backend.healthy()) return "unhealthy";
  if (backend.ejected(selection.now)) return "ejected";
  if (backend.draining.load()) return "draining";
  if (!backend.breaker().allows_traffic()) return "circuit open";
  std::string standing = "ok(w=" + std::to_string(backend.weight());
  const long weight_now = backend.selection_weight(selection.now);
  if (weight_now < backend.weight() * 100L) standing += " slow-start=" + std::to_string(weight_now / backend.weight()) + "%";
  return standing + " active=" + std::to_string(backend.active_requests.load()) + ")";
}

void DecisionTrace::reset() {
  request_id_.clear();
  route_.clear();
  pool_.clear();
  sticky_ = "off";
  candidates_.clear();
  tried_.clear();
  chosen_.clear();
}

void DecisionTrace::note_candidates(const BackendPool& pool, const SelectionContext& selection) {
  if (!candidates_.empty()) return;  // the first choice's view is the interesting one
  for (const auto& backend : pool.backends) {
    if (!candidates_.empty()) candidates_ += ", ";
    candidates_ += backend->url + " " + candidate_standing(*backend, selection);
  }
}

void DecisionTrace::note_failure(const Backend& backend, const std::string& why) {
  if (!tried_.empty()) tried_ += ", ";
  tried_ += backend.url + " (" + why + ")";
}

std::string DecisionTrace::header_value(const std::string& algorithm) const {
  std::string value;
  if (!request_id_.empty()) value += "request_id=" + request_id_ + "; ";
  if (!route_.empty()) value += "route=" + route_ + "; ";
  if (!pool_.empty()) value += "pool=" + pool_ + "; ";
  value += "algorithm=" + algorithm + "; sticky=" + sticky_ + "; candidates=" + candidates_;
  if (!tried_.empty()) value += "; tried=" + tried_;
  value += "; chosen=" + (chosen_.empty() ? std::string("none") : chosen_);
  return value;
}

}  // namespace lb
