// --trace-header: every response carries `X-LB-Trace`, saying which backend
// was chosen and why, so a student can watch the algorithm think:
//
//   X-LB-Trace: route=/api; pool=api; algorithm=round-robin; sticky=off;
//     candidates=http://127.0.0.1:8001 ok(w=1 active=0), http://127.0.0.1:8002 unhealthy;
//     tried=http://127.0.0.1:8003 (connection refused); chosen=http://127.0.0.1:8001
#pragma once

#include <string>
#include <utility>

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
  // How cookie persistence played out: "off", "hit", "miss (no cookie)", ...
  void set_sticky(std::string outcome) { sticky_ = std::move(outcome); }
  // Each backend's standing when the first choice was made.
  void note_candidates(const BackendPool& pool, const SelectionContext& selection);
  void note_failure(const Backend& backend, const std::string& why);
  void note_chosen(const Backend& backend) { chosen_ = backend.url; }
  // The failed attempts so far: "URL (why), ..." (also for the access log).
  const std::string& tried() const { return tried_; }
  // The header value ("" while nothing was recorded).
  std::string header_value(const std::string& algorithm) const;

 private:
  std::string request_id_;
  std::string route_;
  std::string pool_;
  std::string sticky_ = "off";
  std::string candidates_;
  std::string tried_;
  std::string chosen_;
};

// One backend's standing for a selection: "ok(w=1 active=0)", "unhealthy", "ejected",
// "draining", "circuit open" or "tried".
std::string candidate_standing(const Backend& backend, const SelectionContext& selection);

}  // namespace lb
