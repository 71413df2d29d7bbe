#include "lb/config/json_config.h"

#include <nlohmann/json.hpp>

namespace lb {

using json = nlohmann::ordered_json;  // keeps the file's order (pools are listed as written)

namespace {

// A scalar as CLI11 expects it: the text a user would type after the flag.
std::string scalar_text(const json& value, const std::string& path) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  if (value.is_number()) return value.dump();
  throw CLI::ConversionError("config key '" + path + "': expected a string, number or boolean, got " +
                             std::string(value.type_name()));
}

}  // namespace

std::string backend_entry_text(const json& entry, const std::string& path) {
  if (entry.is_string()) return entry.get<std::string>();
  if (!entry.is_object()) throw std::invalid_argument("config key '" + path + "': expected a URL or an object");
  std::string text;
  for (const auto& [key, value] : entry.items()) {
    if (key == "url") {
      if (!value.is_string()) throw std::invalid_argument("config key '" + path + ".url': expected a string");
      text = value.get<std::string>() + text;
    } else if (key == "weight") {
      if (!value.is_number_integer()) throw std::invalid_argument("config key '" + path + ".weight': expected an integer");
      text += ",weight=" + std::to_string(value.get<long long>());
    } else if (key == "max_requests") {
      if (!value.is_number_integer() && !value.is_string()) {
        throw std::invalid_argument("config key '" + path + ".max_requests': expected a number or \"auto\"");
      }
      text += ",max_requests=" + (value.is_string() ? value.get<std::string>() : std::to_string(value.get<long long>()));
    } else if (key == "drain") {
      if (!value.is_boolean()) throw std::invalid_argument("config key '" + path + ".drain': expected true or false");
      text += std::string(",drain=") + (value.get<bool>() ? "true" : "false");
    } else {
      throw std::invalid_argument("config key '" + path + "." + key +
                                  "': unknown key (use url, weight, max_requests, drain)");
    }
  }
  if (text.empty() || text.front() == ',') throw std::invalid_argument("config key '" + path + "': missing url");
  return text;
}

const json& JsonConfig::structured(const std::string& key) const {
  static const json none;
  auto found = structured_.find(key);
  return found == structured_.end() ? none : *found;
}

std::string JsonConfig::to_config(const CLI::App*, bool, bool, std::string) const { return "{}"; }

std::vector<CLI::ConfigItem> JsonConfig::from_config(std::istream& input) const {
  json document = json::parse(input, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (document.is_discarded()) throw CLI::ConversionError("config file is not valid JSON");
  if (!document.is_object()) throw CLI::ConversionError("config file must hold a JSON object");

  std::vector<CLI::ConfigItem> items;
  for (const auto& [key, value] : document.items()) {
    if (key == "pools" || key == "routes") {
      structured_[key] = value;
      continue;
    }
    CLI::ConfigItem item;
    item.name = key == "backends" ? "backend" : key;
    if (key == "backends" || key == "backend") {
      if (!value.is_array()) throw CLI::ConversionError("config key '" + key + "': expected an array");
      for (size_t i = 0; i < value.size(); ++i) {
        try {
          item.inputs.push_back(backend_entry_text(value[i], key + "[" + std::to_string(i) + "]"));
        } catch (const std::invalid_argument& e) {
          throw CLI::ConversionError(e.what());
        }
      }
    } else if (value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) {
        item.inputs.push_back(scalar_text(value[i], key + "[" + std::to_string(i) + "]"));
      }
    } else {
      item.inputs.push_back(scalar_text(value, key));
    }
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace lb
