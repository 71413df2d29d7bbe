// Forward auth's subrequest (README "Access control"): before a request on a
// route with "forward-auth" is forwarded, `GET <url>` goes to the auth
// service with the client's fields (hop-by-hop and framing ones aside) and
// X-Forwarded-Method, -Uri (the original target), -Host, -Proto and -For; its
// answer decides. Connections are pooled per route (ForwardAuthTarget::idle)
// and a pooled one found closed is retried once on a new one.
#pragma once

#include <string>
#include <string_view>

#include "lb/http/message_head.h"
#include "lb/routing/forward_auth_target.h"

namespace lb {

struct ForwardAuthAnswer {
  enum class Kind {
    Allowed,      // a 2xx: the request goes on (with `head`'s copy-headers)
    Refused,      // any other answer: `head` and `body` go to the client as they are
    Unavailable,  // no usable answer (unreachable, timeout, garbage): 503, fail closed
  };
  Kind kind = Kind::Unavailable;
  MessageHead head;   // the auth service's response head
  std::string body;   // its body, decoded (Refused only; at most kMaxBody bytes)
  std::string problem;  // Unavailable: why, for the log
  static constexpr size_t kMaxBody = 64 * 1024;
};

struct ForwardAuthQuestion {
  const MessageHead& request;       // the client's request
  std::string_view client_ip;       // appended to X-Forwarded-For
  std::string_view forwarded_proto; // "http" or "https"
  Millis connect_timeout;
};

ForwardAuthAnswer ask_forward_auth(ForwardAuthTarget& target, const ForwardAuthQuestion& question);

// The subrequest's head (pure; unit-tested).
std::string forward_auth_head(const ForwardAuthTarget& target, const ForwardAuthQuestion& question);

}  // namespace lb
