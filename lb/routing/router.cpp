#include "lb/routing/router.h"

#include <cctype>
#include <functional>
#include <stdexcept>

#include "lb/http/http_headers.h"

namespace lb {

namespace {

bool iends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && iequals(text.substr(text.size() - suffix.size()), suffix);
}

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

// Every host `wide` matches, `narrow` also matches only if `wide` covers it.
bool host_covers(const std::string& wide, const std::string& narrow) {
  if (wide.empty()) return true;
  if (narrow.empty()) return false;
  if (wide.rfind("*.", 0) != 0) return wide == narrow;
  const std::string_view suffix = std::string_view(wide).substr(1);  // ".example.com"
  if (narrow.rfind("*.", 0) == 0) return narrow == wide || iends_with(std::string_view(narrow).substr(1), suffix);
  return host_matches(wide, narrow);
}

bool path_covers(const std::string& wide, const std::string& narrow) {
  if (wide.empty()) return true;
  if (narrow.empty()) return false;  // "" also matches "*" (OPTIONS), which no prefix does
  return path_matches(wide, narrow);
}

}  // namespace

void check_route_host(const std::string& host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {  // an IPv6 literal
    if (host.find_first_not_of("0123456789abcdef:.", 1) == host.size() - 1) return;
  }
  std::string_view name = host;
  if (name.rfind("*.", 0) == 0) name.remove_prefix(2);
  bool valid = !name.empty() && name.front() != '.' && name.back() != '.' && name.find("..") == std::string_view::npos;
  for (char c : name) valid = valid && is_host_char(c);
  if (!valid) throw std::invalid_argument("'" + host + "' is not a host name (letters, digits, '-', '.'; '*.' first for a wildcard; [IPv6])");
}

void check_route_path(const std::string& path) {
  if (path.empty() || path.front() != '/') throw std::invalid_argument("path '" + path + "' must start with '/'");
  for (unsigned char c : path) {
    if (c <= 0x20 || c == 0x7f || c == '?' || c == '#') {
      throw std::invalid_argument("path '" + path + "' has a space, control byte, '?' or '#'");
    }
  }
}

Route parse_route_match(std::string_view match) {
  Route route;
  const size_t slash = match.find('/');
  route.host = std::string(match.substr(0, slash));
  for (char& c : route.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (slash != std::string_view::npos) route.path = std::string(match.substr(slash));
  if (route.host.empty() && route.path.empty()) throw std::invalid_argument("empty match (use HOST, HOST/PATH or /PATH)");
  if (!route.host.empty()) check_route_host(route.host);
  if (!route.path.empty()) check_route_path(route.path);
  return route;
}

std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  const size_t colon = host.rfind(':');
  if (colon != std::string_view::npos) host = host.substr(0, colon);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // "example.com." is example.com
  return host;
}

std::string_view target_path(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    // absolute-form: "scheme://authority/path?query"
    const size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return {};  // "*" or an authority (CONNECT)
    const size_t path_start = target.find_first_of("/?#", scheme_end + 3);
    if (path_start == std::string_view::npos || target[path_start] != '/') return "/";
    target = target.substr(path_start);
  }
  return target.substr(0, target.find_first_of("?#"));
}

bool host_matches(std::string_view pattern, std::string_view host) {
  if (pattern.rfind("*.", 0) == 0) {
    // "*.example.com": a name ending in ".example.com" with at least one label before it.
    const std::string_view suffix = pattern.substr(1);
    return host.size() > suffix.size() && iends_with(host, suffix);
  }
  return iequals(pattern, host);
}

bool path_matches(std::string_view prefix, std::string_view path) {
  if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  return path.size() == prefix.size() || prefix.back() == '/' || path[prefix.size()] == '/';
}

std::string strip_path_prefix(std::string_view target, std::string_view prefix) {
  const std::string_view path = target_path(target);
  // "http://a.com" has no path of its own to cut ("/" is implied): nothing to strip.
  const std::less_equal<const char*> before;
  const bool in_target = before(target.data(), path.data()) && before(path.data(), target.data() + target.size());
  if (path.empty() || !in_target || !path_matches(prefix, path)) return std::string(target);
  const size_t path_start = static_cast<size_t>(path.data() - target.data());
  std::string_view rest = target.substr(path_start + prefix.size());
  std::string out(target.substr(0, path_start));
  if (rest.empty() || rest.front() != '/') out.push_back('/');
  out.append(rest);
  return out;
}

const Route* Router::match(std::string_view host, std::string_view target) const {
  if (routes_.empty()) return nullptr;
  const std::string_view name = host_without_port(host);
  const std::string_view path = target_path(target);
  for (const Route& route : routes_) {
    if (!route.host.empty() && !host_matches(route.host, name)) continue;
    if (!route.path.empty() && !path_matches(route.path, path)) continue;
    return &route;
  }
  return nullptr;
}

std::vector<ShadowedRoute> find_shadowed_routes(const std::vector<Route>& routes) {
  std::vector<ShadowedRoute> shadowed;
  for (size_t later = 0; later < routes.size(); ++later) {
    for (size_t earlier = 0; earlier < later; ++earlier) {
      if (host_covers(routes[earlier].host, routes[later].host) &&
          path_covers(routes[earlier].path, routes[later].path)) {
        shadowed.push_back({later, earlier});
        break;
      }
    }
  }
  return shadowed;
}

}  // namespace lb
