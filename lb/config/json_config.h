// --config FILE: a JSON file with the same settings as the flags.
//
// Keys are the long flag names without "--" ("health-interval": 0.5); a
// repeatable flag takes an array. Backends may also be given as objects with
// per-backend settings:
//   {"backends": [{"url": "http://127.0.0.1:8001", "weight": 3}, "http://127.0.0.1:8002"]}
// ("drain": true takes one out of rotation, as POST /backends/{id}/drain does.)
// This plugs into CLI11 as a config formatter, so flags on the command line
// override the file, and unknown keys or bad values are errors naming the key.
// "pools" and "routes" have no flag of the same shape: they are kept as JSON
// for pool_config.h to read.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace lb {

class JsonConfig : public CLI::Config {
 public:
  std::string to_config(const CLI::App*, bool, bool, std::string) const override;
  // Throws CLI::ConversionError naming the key path for unusable values.
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

  // The file's "pools" or "routes" value (null when absent or no file was read).
  const nlohmann::ordered_json& structured(const std::string& key) const;

 private:
  // CLI11 calls the const from_config(); what it sets aside lands here.
  mutable nlohmann::ordered_json structured_ = nlohmann::ordered_json::object();
};

// One backend entry, "URL" or {"url": "URL", "weight": N, "drain": true}, as --backend's text.
// Throws std::invalid_argument naming `path`.
std::string backend_entry_text(const nlohmann::ordered_json& entry, const std::string& path);

}  // namespace lb
