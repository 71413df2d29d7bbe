#include "lb/operations/decision_trace.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string_view>

namespace lb {

std::string candidate_standing(const Backend& backend, const SelectionContext& selection, bool with_latency) {
  if (std::find(selection.avoid.begin(), selection.avoid.end(), &backend) != selection.avoid.end()) return "tried";
  if (!backend.healthy()) return "unhealthy";
  if (backend.ejected(selection.now)) return "ejected";
  if (backend.draining.load()) return "draining";
  if (!backend.breaker().allows_traffic()) return "circuit open";
  if (!backend.has_room()) return "full(" + std::to_string(backend.max_requests()) + " in flight)";
  std::string standing = "ok(w=" + std::to_string(backend.weight());
  const long weight_now = backend.selection_weight(selection.now);
  if (weight_now < backend.weight() * 100L) standing += " slow-start=" + std::to_string(weight_now / backend.weight()) + "%";
  standing += " active=" + std::to_string(backend.active_requests.load());
  if (with_latency) {
    const std::optional<double> latency = backend.latency_ms(selection.now);
    standing += latency ? " latency=" + std::to_string(std::lround(*latency)) + "ms" : " latency=unknown";
  }
  return standing + ")";
}

void DecisionTrace::reset() {
  request_id_.clear();
  route_.clear();
  pool_.clear();
  sticky_ = "off";
  edge_.clear();
  refused_ = false;
  candidates_.clear();
  failures_.clear();
  delays_.clear();
  hedge_ = {};
  chosen_.clear();
}

void DecisionTrace::note_candidates(const BackendPool& pool, const SelectionContext& selection) {
  if (!candidates_.empty()) return;  // the first choice's view is the interesting one
  const bool with_latency = std::string_view(pool.selector->name()) == "least-latency";
  for (const auto& backend : pool.backends) {
    Note candidate{backend->url, candidate_standing(*backend, selection, with_latency), ""};
    if (with_latency && candidate.text.compare(0, 3, "ok(") == 0) {
      const std::optional<double> latency = backend->latency_ms(selection.now);
      candidate.estimate = (latency ? std::to_string(std::lround(*latency)) + " ms" : std::string("unknown")) + " x " +
                           std::to_string(backend->active_requests.load());
    }
    candidates_.push_back(std::move(candidate));
  }
}

void DecisionTrace::note_failure(const Backend& backend, const std::string& why) {
  failures_.push_back({backend.url, why});
}

void DecisionTrace::note_delay(const Backend& backend, std::chrono::milliseconds delay) {
  delays_.push_back({backend.url, "injected delay " + std::to_string(delay.count()) + " ms"});
}

void DecisionTrace::note_slow_answer(const Backend& backend, std::chrono::milliseconds hold) {
  delays_.push_back({backend.url, "answer held " + std::to_string(hold.count()) + " ms by injected slow_factor"});
}

void DecisionTrace::note_hedge(const Backend& backend, std::chrono::milliseconds after, bool won) {
  hedge_ = {backend.url, "after " + std::to_string(after.count()) + " ms, " + (won ? "won" : "lost")};
}

std::string DecisionTrace::tried() const {
  std::string out;
  for (const Note& failure : failures_) out += (out.empty() ? "" : ", ") + failure.url + " (" + failure.text + ")";
  return out;
}

std::string DecisionTrace::header_value(const std::string& algorithm) const {
  std::string value;
  if (!request_id_.empty()) value += "request_id=" + request_id_ + "; ";
  if (!route_.empty()) value += "route=" + route_ + "; ";
  if (!pool_.empty()) value += "pool=" + pool_ + "; ";
  if (refused_) return value + "refused=" + edge_;  // before any backend was considered
  if (!edge_.empty()) value += "edge=" + edge_ + "; ";
  value += "algorithm=" + algorithm + "; sticky=" + sticky_ + "; candidates=";
  for (size_t i = 0; i < candidates_.size(); ++i) {
    value += (i ? ", " : "") + candidates_[i].url + " " + candidates_[i].text;
  }
  const std::string failed = tried();
  if (!failed.empty()) value += "; tried=" + failed;
  if (!hedge_.url.empty()) value += "; hedged=" + hedge_.url + " (" + hedge_.text + ")";
  value += "; chosen=" + (chosen_.empty() ? std::string("none") : chosen_);
  return value;
}

namespace {

// "http://127.0.0.1:8001" -> "127.0.0.1:8001": the words are read on a dashboard.
std::string short_name(const std::string& url) {
  constexpr std::string_view kPlain = "http://";
  return url.compare(0, kPlain.size(), kPlain) == 0 ? url.substr(kPlain.size()) : url;
}

}  // namespace

// Least-latency's reason: " (12 ms x 1) over B (95 ms x 0)", the estimate
// (ms x requests in flight) of the one chosen and of the others it passed over.
std::string DecisionTrace::estimates_beside(const std::string& chosen) const {
  std::string mine, others;
  for (const Note& candidate : candidates_) {
    if (candidate.estimate.empty()) continue;
    if (candidate.url == chosen) {
      mine = " (" + candidate.estimate + ")";
    } else {
      others += (others.empty() ? " over " : ", ") + short_name(candidate.url) + " (" + candidate.estimate + ")";
    }
  }
  return mine.empty() ? "" : mine + others;
}

std::string DecisionTrace::in_words(const std::string& algorithm) const {
  std::vector<std::string> parts;
  if (!route_.empty()) parts.push_back("route " + route_ + " → pool " + pool_);
  if (refused_) parts.push_back("refused: " + edge_);
  if (!refused_ && !edge_.empty()) parts.push_back(edge_);
  if (sticky_ != "off") parts.push_back("sticky cookie " + sticky_);
  // Each choice in order: the failed ones, then the one that answered.
  auto choice = [&](size_t index, const std::string& url) {
    std::string who = index == 0 && sticky_ == "hit" ? "the sticky cookie" : algorithm;
    std::string text = who + " chose " + short_name(url);
    if (who == "least-latency") text += estimates_beside(url);
    for (const Note& delay : delays_) {
      if (delay.url == url) text += " (" + delay.text + ")";
    }
    return text;
  };
  for (size_t i = 0; i < failures_.size(); ++i) {
    const bool retried = i + 1 < failures_.size() || (!chosen_.empty() && chosen_ != failures_[i].url);
    parts.push_back(choice(i, failures_[i].url) + ": " + failures_[i].text + (retried ? ", retrying" : ""));
  }
  if (refused_) {
    // nothing was chosen: the edge answered
  } else if (chosen_.empty()) {
    parts.push_back("no backend available");
  } else if (failures_.empty() || chosen_ != failures_.back().url) {
    parts.push_back(choice(failures_.size(), chosen_));
  }
  if (!hedge_.url.empty()) parts.push_back("hedged to " + short_name(hedge_.url) + " " + hedge_.text);
  std::string skipped;
  for (const Note& candidate : candidates_) {
    if (candidate.text.compare(0, 3, "ok(") == 0) continue;
    skipped += (skipped.empty() ? "skipped " : ", ") + short_name(candidate.url) + " (" + candidate.text + ")";
  }
  if (!skipped.empty()) parts.push_back(skipped);
  std::string words;
  for (const std::string& part : parts) words += (words.empty() ? "" : "; ") + part;
  return words;
}

}  // namespace lb
