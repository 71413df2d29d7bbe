#include "lb/config/config_edit.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "lb/balancing/backend_url.h"
#include "lb/config/json_config.h"

namespace lb {

using json = nlohmann::ordered_json;  // keeps the operator's order of keys and pools

namespace {

// The pool and canonical URL an entry names; nullopt for one that does not
// parse (it is left as it is: validation is the reload's job).
// `pool`: the list's own pool ("default" for the top-level list, where "POOL=URL" names another).
std::optional<std::pair<std::string, std::string>> identity(const json& entry, std::string pool, bool top_level) {
  try {
    std::string text = backend_entry_text(entry, "backend");
    const size_t scheme = text.find("://");
    const size_t equals = text.find('=');
    if (top_level && equals != std::string::npos && equals < scheme) {
      pool = text.substr(0, equals);
      text = text.substr(equals + 1);
    }
    return std::make_pair(pool, parse_backend_spec(text).url());
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

// The entry naming change.pool and change.url, or nullptr.
json* find_entry(json& config, const BackendChange& change, json** list) {
  auto search = [&](json& candidates, const std::string& pool, bool top_level) -> json* {
    if (!candidates.is_array()) return nullptr;
    for (json& entry : candidates) {
      const auto named = identity(entry, pool, top_level);
      if (named && named->first == change.pool && named->second == change.url) {
        *list = &candidates;
        return &entry;
      }
    }
    return nullptr;
  };
  for (const char* key : {"backends", "backend"}) {
    if (config.contains(key)) {
      if (json* found = search(config[key], "default", true)) return found;
    }
  }
  if (config.contains("pools") && config["pools"].is_object() && config["pools"].contains(change.pool) &&
      config["pools"][change.pool].is_object() && config["pools"][change.pool].contains("backends")) {
    return search(config["pools"][change.pool]["backends"], change.pool, false);
  }
  return nullptr;
}

json& as_object(json& entry) {
  if (entry.is_string()) entry = json{{"url", entry.get<std::string>()}};
  return entry;
}

// Add: the list the pool's backends are written in.
void append(json& config, const BackendChange& change) {
  json entry = change.weight > 0 ? json{{"url", change.url}, {"weight", change.weight}} : json(change.url);
  json* pools = config.contains("pools") && config["pools"].is_object() ? &config["pools"] : nullptr;
  if (pools && pools->contains(change.pool) && (*pools)[change.pool].is_object()) {
    json& pool = (*pools)[change.pool];
    if (!pool.contains("backends") || !pool["backends"].is_array()) pool["backends"] = json::array();
    pool["backends"].push_back(std::move(entry));
    return;
  }
  const char* key = config.contains("backend") && !config.contains("backends") ? "backend" : "backends";
  if (!config.contains(key) || !config[key].is_array()) config[key] = json::array();
  if (change.pool != "default") {
    entry = entry.is_string() ? json(change.pool + "=" + change.url)
                              : json{{"url", change.pool + "=" + change.url}, {"weight", change.weight}};
  }
  config[key].push_back(std::move(entry));
}

}  // namespace

std::optional<std::string> edit_config(const std::string& config_text, const BackendChange& change) {
  json config = json::parse(config_text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (!config.is_object()) throw std::invalid_argument("the config is not a JSON object");
  json* list = nullptr;
  json* entry = find_entry(config, change, &list);
  const json before = config;
  switch (change.kind) {
    case BackendChange::Kind::Add:
      if (entry) return std::nullopt;
      append(config, change);
      break;
    case BackendChange::Kind::Remove:
      if (!entry) return std::nullopt;
      list->erase(list->begin() + (entry - &(*list)[0]));
      break;
    case BackendChange::Kind::Drain:
    case BackendChange::Kind::Enable:
      if (!entry) return std::nullopt;
      as_object(*entry)["drain"] = change.kind == BackendChange::Kind::Drain;
      break;
    case BackendChange::Kind::Weight:
      if (!entry) return std::nullopt;
      as_object(*entry)["weight"] = change.weight;
      break;
  }
  if (config == before) return std::nullopt;
  return config.dump(2);
}

}  // namespace lb
