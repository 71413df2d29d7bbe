// A route's "forward-auth" service (README "Access control"), as Traefik's
// ForwardAuth or nginx's auth_request: where to ask, which fields of its
// answer to copy, and its idle keep-alive connections, shared by every
// request on the route (lb/proxy/forward_auth.h asks it).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lb/transport/idle_connections.h"

namespace lb {

struct ForwardAuthTarget {
  std::string url;          // as configured: "http://auth:9000/verify?x=1"
  std::string host;         // without brackets for IPv6 literals
  uint16_t port = 80;
  std::string host_header;  // "auth:9000"
  std::string target;       // "/verify?x=1": what is asked for, with GET
  std::vector<std::string> copy_headers;  // fields of a 2xx answer added to the forwarded request
  Millis timeout{5000};     // connecting, and each wait for its answer's bytes
  IdleConnections idle{64, std::chrono::seconds(30)};
  std::atomic<bool> failing{false};  // unreachable now: logged once when it starts and once when it ends
};

// Parses `http://host[:port][/path[?query]]`. Throws std::invalid_argument
// naming the problem (https, no host, a bad port, spaces or control bytes).
std::shared_ptr<ForwardAuthTarget> make_forward_auth_target(const std::string& url,
                                                            std::vector<std::string> copy_headers, Millis timeout);

}  // namespace lb
