#include "lb/config/json_config.h"

#include <nlohmann/json.hpp>

namespace lb {

namespace {

using nlohmann::json;

// A scalar as CLI11 expects it: the text a user would type after the flag.
std::string scalar_text(const json& value, const std::string& path) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  if (value.is_number()) return value.dump();
  throw CLI::ConversionError("config key '" + path + "': expected a string, number or boolean, got " +
                             std::string(value.type_name()));
}

// One backend: "URL" or {"url": "URL", "weight": N}, as --backend's text.
std::string backend_text(const json& entry, const std::string& path) {
  if (entry.is_string()) return entry.get<std::string>();
  if (!entry.is_object()) throw CLI::ConversionError("config key '" + path + "': expected a URL or an object");
  std::string text;
  for (const auto& [key, value] : entry.items()) {
    if (key == "url") {
      if (!value.is_string()) throw CLI::ConversionError("config key '" + path + ".url': expected a string");
      text = value.get<std::string>() + text;
    } else if (key == "weight") {
      if (!value.is_number_integer()) throw CLI::ConversionError("config key '" + path + ".weight': expected an integer");
      text += ",weight=" + std::to_string(value.get<long long>());
    } else {
      throw CLI::ConversionError("config key '" + path + "." + key + "': unknown key (use url, weight)");
    }
  }
  if (text.empty() || text.front() == ',') throw CLI::ConversionError("config key '" + path + "': missing url");
  return text;
}

}  // namespace

std::string JsonConfig::to_config(const CLI::App*, bool, bool, std::string) const { return "{}"; }

std::vector<CLI::ConfigItem> JsonConfig::from_config(std::istream& input) const {
  json document = json::parse(input, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (document.is_discarded()) throw CLI::ConversionError("config file is not valid JSON");
  if (!document.is_object()) throw CLI::ConversionError("config file must hold a JSON object");

  std::vector<CLI::ConfigItem> items;
  for (const auto& [key, value] : document.items()) {
    CLI::ConfigItem item;
    item.name = key == "backends" ? "backend" : key;
    if (key == "backends" || key == "backend") {
      if (!value.is_array()) throw CLI::ConversionError("config key '" + key + "': expected an array");
      for (size_t i = 0; i < value.size(); ++i) {
        item.inputs.push_back(backend_text(value[i], key + "[" + std::to_string(i) + "]"));
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
