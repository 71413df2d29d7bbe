// --allow / --deny CIDR (and a route's "allow"/"deny"): which client
// addresses may be served at all (README "Access control").
//
// Deny first: an address any deny entry covers is refused; then, when any
// allow entry is given, an address none of them covers is refused too. The
// address is the client's as rate limiting sees it (client_address() in
// trusted_proxies.h: the peer, or what a PROXY header or a trusted proxy's
// X-Forwarded-For said). Pure: unit-tested without sockets.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lb/protection/trusted_proxies.h"

namespace lb {

// Why a request was refused at the edge: the label of
// lb_edge_refused_total{reason} (README "Access control").
enum class EdgeRefusal { None, Deny, NotAllowed, BasicAuth, ForwardAuth, ForwardAuthUnavailable };
constexpr int kEdgeRefusalKinds = 6;
// "deny", "not_allowed", "basic_auth", "forward_auth", "forward_auth_unavailable" ("" for None).
const char* edge_refusal_label(EdgeRefusal refusal);

struct AccessVerdict {
  EdgeRefusal refusal = EdgeRefusal::None;  // None, Deny or NotAllowed
  std::string rule;                         // what decided: "deny 10.0.0.0/8", "no allow matches"
  explicit operator bool() const { return refusal == EdgeRefusal::None; }  // true: let in
};

class AccessList {
 public:
  // Throws std::invalid_argument naming the bad entry ("invalid --deny \"x\": ...").
  // `allow_name`/`deny_name` name the lists in those messages.
  static AccessList parse(const std::vector<std::string>& allow, const std::vector<std::string>& deny,
                          const char* allow_name = "--allow", const char* deny_name = "--deny");

  AccessVerdict check(std::string_view client_ip) const;
  bool empty() const { return allow_.empty() && deny_.empty(); }

 private:
  TrustedProxies allow_;  // empty: every address not denied
  TrustedProxies deny_;
};

}  // namespace lb
