#include "lb/protection/access_list.h"

namespace lb {

const char* edge_refusal_label(EdgeRefusal refusal) {
  switch (refusal) {
    case EdgeRefusal::Deny: return "deny";
    case EdgeRefusal::NotAllowed: return "not_allowed";
    case EdgeRefusal::BasicAuth: return "basic_auth";
    case EdgeRefusal::ForwardAuth: return "forward_auth";
    case EdgeRefusal::ForwardAuthUnavailable: return "forward_auth_unavailable";
    case EdgeRefusal::None: break;
  }
  return "";
}

AccessList AccessList::parse(const std::vector<std::string>& allow, const std::vector<std::string>& deny,
                             const char* allow_name, const char* deny_name) {
  AccessList list;
  list.allow_ = TrustedProxies::parse(allow, allow_name);
  list.deny_ = TrustedProxies::parse(deny, deny_name);
  return list;
}

AccessVerdict AccessList::check(std::string_view client_ip) const {
  AccessVerdict verdict;
  if (const std::string denied = deny_.covering(client_ip); !denied.empty()) {
    verdict.refusal = EdgeRefusal::Deny;
    verdict.rule = "deny " + denied;
  } else if (!allow_.empty() && allow_.covering(client_ip).empty()) {
    verdict.refusal = EdgeRefusal::NotAllowed;
    verdict.rule = "no allow entry covers " + std::string(client_ip);
  }
  return verdict;
}

}  // namespace lb
