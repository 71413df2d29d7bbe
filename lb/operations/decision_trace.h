// --trace-header: every response carries `X-LB-Trace`, saying which backend
// was chosen and why, so a student can watch the algorithm think:
//
//   X-LB-Trace: route=/api; pool=api; algorithm=round-robin; sticky=off;
//     candidates=http://127.0.0.1:8001 ok(w=1 active=0), http://127.0.0.1:8002 unhealthy;
//     tried=http://127.0.0.1:8003 (connection refused); chosen=http://127.0.0.1:8001
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "lb/balancing/balancer.h"
#include "lb/balancing/selector.h"

namespace lb {

class DecisionTrace {
 public:
  void reset();
  // Which route sent the request to which pool (only when there are routes).
  void set_route(std::string route, std::string pool) {
    route_ = std::move(route);
    pool_ = std::move(pool);
  }
  void set_request_id(std::string id) { request_id_ = std::move(id); }
  // The edge's checks (README "Access control"): what let the request in
  // ("basic auth alice", "forward auth 200"), or, with `refused`, which rule
  // refused it ("deny 127.0.0.2/32 (--deny)"): then no backend was chosen.
  void note_edge(std::string outcome, bool refused = false) {
    edge_ += (edge_.empty() ? "" : ", ") + outcome;
    refused_ = refused_ || refused;
  }
  bool refused() const { return refused_; }
  // How cookie persistence played out: "off", "hit", "miss (no cookie)", ...
  void set_sticky(std::string outcome) { sticky_ = std::move(outcome); }
  // Each backend's standing when the first choice was made.
  void note_candidates(const BackendPool& pool, const SelectionContext& selection);
  void note_failure(const Backend& backend, const std::string& why);
  void note_chosen(const Backend& backend) { chosen_ = backend.url; }
  // An injected delay held the attempt on `backend` back.
  void note_delay(const Backend& backend, std::chrono::milliseconds delay);
  // --hedge-after: the request also went to `backend` after `after`; `won`: it answered first.
  void note_hedge(const Backend& backend, std::chrono::milliseconds after, bool won);
  // An injected slow_factor held the backend's answer back this long.
  void note_slow_answer(const Backend& backend, std::chrono::milliseconds hold);
  // The failed attempts so far: "URL (why), ..." (also for the access log).
  std::string tried() const;
  // The header value ("" while nothing was recorded).
  std::string header_value(const std::string& algorithm) const;
  // The same story in words, for the live request view:
  //   "round-robin chose 127.0.0.1:8001: injected fault (503), retrying;
  //    round-robin chose 127.0.0.1:8002; skipped 127.0.0.1:8003 (unhealthy)"
  std::string in_words(const std::string& algorithm) const;

 private:
  std::string estimates_beside(const std::string& chosen) const;
  struct Note {
    std::string url;
    std::string text;  // a candidate's standing, a failure's reason, a delay
    std::string estimate{};  // least-latency's view of an eligible candidate: "12 ms x 1" (ms x in flight)
  };
  std::string request_id_;
  std::string route_;
  std::string pool_;
  std::string sticky_ = "off";
  std::string edge_;      // what the edge's checks decided, "" when there were none
  bool refused_ = false;  // the edge refused the request
  std::vector<Note> candidates_;
  std::vector<Note> failures_;
  std::vector<Note> delays_;  // injected delays and holds, in words
  Note hedge_;  // url empty: not hedged
  std::string chosen_;
};

// One backend's standing for a selection: "ok(w=1 active=0)", "unhealthy", "ejected",
// "draining", "circuit open" or "tried". `with_latency` (least-latency pools)
// adds the estimate that decided: "ok(w=1 active=0 latency=12ms)".
std::string candidate_standing(const Backend& backend, const SelectionContext& selection, bool with_latency = false);

}  // namespace lb
