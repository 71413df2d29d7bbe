// Routes: which pool a request goes to, by host and path (README "Several
// services"), like nginx's server_name + location or HAProxy's use_backend.
//
//   --route api.example.com=api      any path on that host
//   --route '*.example.com/static/=files'   a host suffix and a path prefix
//   --route /=web                    everything else
//
// Routes are tried in the order given; the first that matches wins. Hosts
// match case-insensitively without their port; paths match as a prefix of the
// path exactly as sent (percent-encoding untouched, the query not part of it),
// and only at a segment boundary: `/api` matches `/api`, `/api/x` and
// `/api?q`, not `/apis`. Pure code: unit-tested without sockets.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <memory>

#include "lb/protection/access_list.h"
#include "lb/protection/password_file.h"
#include "lb/routing/forward_auth_target.h"
#include "lb/routing/header_rules.h"

namespace lb {

struct Route {
  std::string host;  // "" any host; "api.example.com"; "*.example.com" (any host below it), lower case
  std::string path;  // "" any target; else a prefix that starts with '/'
  std::string pool;  // the pool it sends to
  std::size_t pool_index = 0;  // that pool's place, set by whoever holds the pools (Topology)
  bool strip_prefix = false;   // forward the path without `path` (config file only)
  std::optional<bool> compress;  // "compress" (config file only): overrides --compress; unset: --compress decides
  HeaderRules request_headers;
  HeaderRules response_headers;
  AccessList access;           // "allow"/"deny": after --allow/--deny (README "Access control")
  std::shared_ptr<const BasicAuth> basic_auth;        // "basic-auth"; nullptr: none
  std::shared_ptr<ForwardAuthTarget> forward_auth;    // "forward-auth"; nullptr: none (its connections are shared)

  // As --route writes it: "api.example.com", "example.com/api", "/static/";
  // "*" for a route (config file only) that matches every request.
  std::string match_text() const { return host.empty() && path.empty() ? "*" : host + path; }
};

// Parses --route's MATCH: HOST, HOST/PATH or /PATH. Throws std::invalid_argument.
Route parse_route_match(std::string_view match);
// Throws std::invalid_argument unless `host` is a host name or a "*." wildcard.
void check_route_host(const std::string& host);
// Throws std::invalid_argument unless `path` starts with '/' and has no
// whitespace, control bytes, '?' or '#'.
void check_route_path(const std::string& path);

// The host of a Host value or authority, without its port or a final dot:
// "API.example.com:8080" -> "API.example.com", "[::1]:80" -> "[::1]".
std::string_view host_without_port(std::string_view host);
// The path of a request-target: origin-form up to '?', absolute-form after its
// authority ("" for "*", "/" for "http://a.com"), without the query.
std::string_view target_path(std::string_view target);

bool host_matches(std::string_view pattern, std::string_view host);  // host: host_without_port()
bool path_matches(std::string_view prefix, std::string_view path);

// `target` with the path prefix removed, for strip-prefix: "/api/users?q" ->
// "/users?q", "/api" -> "/". The target must match `prefix`.
std::string strip_path_prefix(std::string_view target, std::string_view prefix);

class Router {
 public:
  explicit Router(std::vector<Route> routes = {}) : routes_(std::move(routes)) {}

  // The first route that matches, or nullptr (then: 404).
  // `host`: request_host() (the Host field or an absolute-form authority).
  const Route* match(std::string_view host, std::string_view target) const;

  bool empty() const { return routes_.empty(); }
  const std::vector<Route>& routes() const { return routes_; }
  std::vector<Route>& routes() { return routes_; }

 private:
  std::vector<Route> routes_;
};

// A route that can never match: an earlier one matches every request it would.
struct ShadowedRoute {
  std::size_t route;   // index of the shadowed route
  std::size_t by;      // index of the earlier route that takes its requests
};
std::vector<ShadowedRoute> find_shadowed_routes(const std::vector<Route>& routes);

}  // namespace lb
