#include "lb/config/pool_config.h"

#include <algorithm>

#include "lb/balancing/selector.h"
#include "lb/config/json_config.h"
#include "lb/config/options.h"
#include "lb/http/http_headers.h"

namespace lb {

using json = nlohmann::ordered_json;

namespace {

bool is_pool_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; });
}

void check_pool_name(const std::string& name, const std::string& where) {
  if (!is_pool_name(name)) throw OptionsError(where + ": '" + name + "' is not a pool name (A-Z a-z 0-9 _ -, at most 64)");
}

PoolSpec& pool_named(std::vector<PoolSpec>& pools, const std::string& name, const PoolSettings& defaults) {
  for (auto& pool : pools) {
    if (pool.settings.name == name) return pool;
  }
  pools.push_back({defaults, {}});
  pools.back().settings.name = name;
  return pools.back();
}

BackendSpec backend_in(const std::string& text, const std::string& where) {
  try {
    return parse_backend_spec(text);
  } catch (const std::invalid_argument& e) {
    throw OptionsError(where + ": " + e.what());
  }
}

// A backend entry: a URL, or an SRV source (README "Backends from DNS SRV") that discovery fills in.
void add_backend_entry(PoolSpec& pool, const std::string& text, const std::string& where) {
  if (!is_srv_url(text)) {
    pool.backends.push_back(backend_in(text, where));
    return;
  }
  try {
    const SrvSource source = parse_srv_source(text);
    std::vector<SrvSource>& sources = pool.settings.srv_sources;
    if (std::find(sources.begin(), sources.end(), source) == sources.end()) sources.push_back(source);
  } catch (const std::invalid_argument& e) {
    throw OptionsError(where + ": " + e.what());
  }
}

std::string string_at(const json& value, const std::string& key) {
  if (!value.is_string()) throw OptionsError("config key '" + key + "': expected a string");
  return value.get<std::string>();
}

std::vector<std::string> strings_at(const json& value, const std::string& key) {
  if (!value.is_array()) throw OptionsError("config key '" + key + "': expected an array of strings");
  std::vector<std::string> result;
  for (size_t i = 0; i < value.size(); ++i) result.push_back(string_at(value[i], key + "[" + std::to_string(i) + "]"));
  return result;
}

// "max-requests" or "hedge-after" (RequestLimit or HedgePolicy): a number or a word.
template <typename Tuning>
Tuning tuning_at(const json& value, const std::string& key, const std::string& expected) {
  const std::string text = value.is_number_integer() ? std::to_string(value.get<long long>()) : string_at(value, key);
  const std::optional<Tuning> tuning = Tuning::parse(text);
  if (!tuning) throw OptionsError("config key '" + key + "': use " + expected);
  return *tuning;
}

// One pool's settings from the file: the keys a pool may override.
void read_pool_settings(const json& entry, const std::string& key, PoolSpec& pool) {
  if (!entry.is_object()) throw OptionsError("config key '" + key + "': expected an object");
  PoolSettings& settings = pool.settings;
  for (const auto& [name, value] : entry.items()) {
    const std::string at = key + "." + name;
    if (name == "backends") {
      if (!value.is_array()) throw OptionsError("config key '" + at + "': expected an array");
      for (size_t i = 0; i < value.size(); ++i) {
        const std::string item = at + "[" + std::to_string(i) + "]";
        try {
          add_backend_entry(pool, backend_entry_text(value[i], item), "config key '" + item + "'");
        } catch (const std::invalid_argument& e) {
          throw OptionsError(e.what());
        }
      }
    } else if (name == "algorithm") {
      settings.policy.algorithm = string_at(value, at);
      const std::vector<std::string>& names = algorithm_names();
      if (std::find(names.begin(), names.end(), settings.policy.algorithm) == names.end()) {
        throw OptionsError("config key '" + at + "': use " + algorithm_choices());
      }
    } else if (name == "sticky-cookie") {
      settings.policy.sticky_cookie = string_at(value, at);
      if (!is_token(settings.policy.sticky_cookie)) throw OptionsError("config key '" + at + "': not a valid cookie name");
    } else if (name == "health-path") {
      settings.health_path = string_at(value, at);
      if (settings.health_path.empty() || settings.health_path.front() != '/') {
        throw OptionsError("config key '" + at + "': must start with '/'");
      }
    } else if (name == "health-interval") {
      if (!value.is_number() || value.get<double>() <= 0) throw OptionsError("config key '" + at + "': expected seconds > 0");
      settings.health_interval = std::chrono::milliseconds(static_cast<long>(value.get<double>() * 1000 + 0.5));
    } else if (name == "max-requests") {
      settings.max_requests = tuning_at<RequestLimit>(value, at, "a number 0-100000 or \"auto\"");
    } else if (name == "hedge-after") {
      settings.hedge = tuning_at<HedgePolicy>(value, at, "milliseconds 1-60000, \"auto\" or \"off\"");
    } else if (name == "backend-ca") {
      settings.backend_tls.ca_file = string_at(value, at);  // "": the system store
    } else if (name == "backend-cert") {
      settings.backend_tls.certificate.cert_file = string_at(value, at);  // "" with "backend-key": "": none
    } else if (name == "backend-key") {
      settings.backend_tls.certificate.key_file = string_at(value, at);
    } else {
      throw OptionsError("config key '" + at +
                         "': unknown key (use backends, algorithm, sticky-cookie, health-path, health-interval, "
                         "max-requests, hedge-after, backend-ca, backend-cert, backend-key)");
    }
  }
  // Half a pair would mix this pool's certificate with the top-level key (or the other way round).
  if (entry.contains("backend-cert") != entry.contains("backend-key") ||
      settings.backend_tls.certificate.cert_file.empty() != settings.backend_tls.certificate.key_file.empty()) {
    throw OptionsError("config key '" + key + "': backend-cert and backend-key go together");
  }
}

HeaderRules read_header_rules(const json& entry, const std::string& key) {
  if (!entry.is_object()) throw OptionsError("config key '" + key + "': expected an object");
  HeaderRules rules;
  for (const auto& [verb, value] : entry.items()) {
    const std::string at = key + "." + verb;
    if (verb == "remove") {
      if (!value.is_array()) throw OptionsError("config key '" + at + "': expected an array of names");
      for (const auto& name : value) rules.remove.push_back(string_at(name, at));
    } else if (verb == "set" || verb == "add") {
      if (!value.is_object()) throw OptionsError("config key '" + at + "': expected an object of name: value");
      for (const auto& [name, field_value] : value.items()) {
        (verb == "set" ? rules.set : rules.add).emplace_back(name, string_at(field_value, at + "." + name));
      }
    } else {
      throw OptionsError("config key '" + at + "': unknown key (use set, add, remove)");
    }
  }
  return rules;
}

// "basic-auth": {"realm": R, "users": FILE}; the file is read (and checked) now.
std::shared_ptr<const BasicAuth> read_basic_auth(const json& entry, const std::string& key) {
  if (!entry.is_object()) throw OptionsError("config key '" + key + "': expected an object with realm and users");
  auto auth = std::make_shared<BasicAuth>();
  std::string users;
  for (const auto& [name, value] : entry.items()) {
    if (name == "realm") {
      auth->realm = string_at(value, key + ".realm");
    } else if (name == "users") {
      users = string_at(value, key + ".users");
    } else {
      throw OptionsError("config key '" + key + "." + name + "': unknown key (use realm, users)");
    }
  }
  if (const std::string problem = realm_problem(auth->realm); !problem.empty()) {
    throw OptionsError("config key '" + key + ".realm': " + problem);
  }
  if (users.empty()) throw OptionsError("config key '" + key + "': missing \"users\" (an htpasswd file)");
  try {
    auth->users = PasswordFile::load(users);
  } catch (const std::runtime_error& e) {
    throw OptionsError(e.what());
  }
  return auth;
}

// "forward-auth": {"url": URL, "copy-headers": [NAME...], "timeout": SEC}.
std::shared_ptr<ForwardAuthTarget> read_forward_auth(const json& entry, const std::string& key) {
  if (!entry.is_object()) throw OptionsError("config key '" + key + "': expected an object with url");
  std::string url;
  std::vector<std::string> copy;
  double timeout = 5;
  for (const auto& [name, value] : entry.items()) {
    const std::string at = key + "." + name;
    if (name == "url") {
      url = string_at(value, at);
    } else if (name == "copy-headers") {
      copy = strings_at(value, at);
      for (const std::string& header : copy) {
        if (const std::string refusal = header_rule_refusal(header); !refusal.empty()) {
          throw OptionsError("config key '" + at + "': " + refusal);
        }
      }
    } else if (name == "timeout") {
      if (!value.is_number() || value.get<double>() <= 0 || value.get<double>() > 600) {
        throw OptionsError("config key '" + at + "': expected seconds, more than 0 and at most 600");
      }
      timeout = value.get<double>();
    } else {
      throw OptionsError("config key '" + at + "': unknown key (use url, copy-headers, timeout)");
    }
  }
  try {
    return make_forward_auth_target(url, copy, Millis(static_cast<long>(timeout * 1000 + 0.5)));
  } catch (const std::invalid_argument& e) {
    throw OptionsError("config key '" + key + ".url': " + e.what());
  }
}

Route read_route(const json& entry, const std::string& key) {
  if (!entry.is_object()) throw OptionsError("config key '" + key + "': expected an object");
  Route route;
  std::vector<std::string> allow, deny;
  for (const auto& [name, value] : entry.items()) {
    const std::string at = key + "." + name;
    if (name == "host") {
      route.host = string_at(value, at);
      std::transform(route.host.begin(), route.host.end(), route.host.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    } else if (name == "path") {
      route.path = string_at(value, at);
    } else if (name == "pool") {
      route.pool = string_at(value, at);
    } else if (name == "strip-prefix") {
      if (!value.is_boolean()) throw OptionsError("config key '" + at + "': expected true or false");
      route.strip_prefix = value.get<bool>();
    } else if (name == "compress") {
      if (!value.is_boolean()) throw OptionsError("config key '" + at + "': expected true or false");
      route.compress = value.get<bool>();
    } else if (name == "request-headers") {
      route.request_headers = read_header_rules(value, at);
    } else if (name == "response-headers") {
      route.response_headers = read_header_rules(value, at);
    } else if (name == "allow") {
      allow = strings_at(value, at);
    } else if (name == "deny") {
      deny = strings_at(value, at);
    } else if (name == "basic-auth") {
      route.basic_auth = read_basic_auth(value, at);
    } else if (name == "forward-auth") {
      route.forward_auth = read_forward_auth(value, at);
    } else {
      throw OptionsError("config key '" + at +
                         "': unknown key (use host, path, pool, strip-prefix, compress, request-headers, "
                         "response-headers, allow, deny, basic-auth, forward-auth)");
    }
  }
  try {
    route.access = AccessList::parse(allow, deny, "allow entry", "deny entry");
  } catch (const std::invalid_argument& e) {
    throw OptionsError("config key '" + key + "': " + e.what());
  }
  try {
    if (!route.host.empty()) check_route_host(route.host);
    if (!route.path.empty()) check_route_path(route.path);
  } catch (const std::invalid_argument& e) {
    throw OptionsError("config key '" + key + "': " + e.what());
  }
  if (route.pool.empty()) throw OptionsError("config key '" + key + "': missing \"pool\"");
  return route;
}

void check_header_rules(const HeaderRules& rules, const std::string& where) {
  for (const auto& name : rules.remove) {
    std::string refusal = header_rule_refusal(name);
    if (!refusal.empty()) throw OptionsError(where + ": " + refusal);
  }
  for (const auto* list : {&rules.set, &rules.add}) {
    for (const auto& [name, value] : *list) {
      std::string refusal = header_rule_refusal(name, value);
      if (!refusal.empty()) throw OptionsError(where + ": " + refusal);
    }
  }
}

}  // namespace

std::vector<PoolSpec> build_pools(const std::vector<std::string>& backend_texts, const json& pools,
                                  const PoolSettings& defaults) {
  std::vector<PoolSpec> result;
  for (const auto& text : backend_texts) {
    // "POOL=URL": a '=' before the scheme's "://" ends the pool name (weight=N comes after).
    const size_t scheme = text.find("://");
    const size_t equals = text.find('=');
    std::string pool = "default";
    std::string url = text;
    if (equals != std::string::npos && (scheme == std::string::npos || equals < scheme)) {
      pool = text.substr(0, equals);
      url = text.substr(equals + 1);
      check_pool_name(pool, "--backend " + text);
    }
    add_backend_entry(pool_named(result, pool, defaults), url, "--backend");
  }
  if (!pools.is_null()) {
    if (!pools.is_object()) throw OptionsError("config key 'pools': expected an object of pool name: settings");
    for (const auto& [name, entry] : pools.items()) {
      check_pool_name(name, "config key 'pools'");
      read_pool_settings(entry, "pools." + name, pool_named(result, name, defaults));
    }
  }
  return result;
}

std::vector<Route> build_routes(const std::vector<std::string>& route_texts, const json& routes) {
  std::vector<Route> result;
  if (!route_texts.empty()) {
    for (const auto& text : route_texts) {
      const size_t equals = text.rfind('=');
      if (equals == std::string::npos) throw OptionsError("--route " + text + ": expected MATCH=POOL");
      try {
        result.push_back(parse_route_match(text.substr(0, equals)));
      } catch (const std::invalid_argument& e) {
        throw OptionsError("--route " + text + ": " + e.what());
      }
      result.back().pool = text.substr(equals + 1);
    }
    return result;
  }
  if (routes.is_null()) return result;
  if (!routes.is_array()) throw OptionsError("config key 'routes': expected an array");
  for (size_t i = 0; i < routes.size(); ++i) result.push_back(read_route(routes[i], "routes[" + std::to_string(i) + "]"));
  return result;
}

std::string describe_route(const std::vector<Route>& routes, std::size_t index) {
  return "route " + std::to_string(index + 1) + " (" + routes[index].match_text() + ")";
}

void check_pools_and_routes(const std::vector<PoolSpec>& pools, const std::vector<Route>& routes, bool warn_only,
                            std::vector<std::string>& warnings) {
  auto find_pool = [&](const std::string& name) {
    return std::find_if(pools.begin(), pools.end(), [&](const PoolSpec& p) { return p.settings.name == name; });
  };
  if (pools.empty()) throw OptionsError("--backend: at least one backend is required");
  for (const auto& pool : pools) {
    if (pool.backends.empty() && pool.settings.srv_sources.empty()) throw OptionsError("pool '" + pool.settings.name + "' has no backends");
  }
  for (size_t i = 0; i < routes.size(); ++i) {
    if (find_pool(routes[i].pool) == pools.end()) {
      throw OptionsError(describe_route(routes, i) + ": unknown pool '" + routes[i].pool + "'");
    }
    check_header_rules(routes[i].request_headers, describe_route(routes, i) + " request-headers");
    check_header_rules(routes[i].response_headers, describe_route(routes, i) + " response-headers");
  }
  if (routes.empty() && find_pool("default") == pools.end()) {
    throw OptionsError("no --route given and no pool 'default': requests would have nowhere to go");
  }
  for (const ShadowedRoute& shadowed : find_shadowed_routes(routes)) {
    std::string message = describe_route(routes, shadowed.route) + " can never match: " +
                          describe_route(routes, shadowed.by) + " matches every request it would";
    if (!warn_only) throw OptionsError(message);
    warnings.push_back(message);
  }
  for (const auto& pool : pools) {
    const bool routed = std::any_of(routes.begin(), routes.end(), [&](const Route& r) { return r.pool == pool.settings.name; });
    if (!routes.empty() && !routed) warnings.push_back("pool '" + pool.settings.name + "' is named by no route");
  }
}

}  // namespace lb
