// --config FILE: a JSON file with the same settings as the flags.
//
// Keys are the long flag names without "--" ("health-interval": 0.5); a
// repeatable flag takes an array. Backends may also be given as objects with
// per-backend settings:
//   {"backends": [{"url": "http://127.0.0.1:8001", "weight": 3}, "http://127.0.0.1:8002"]}
// This plugs into CLI11 as a config formatter, so flags on the command line
// override the file, and unknown keys or bad values are errors naming the key.
#pragma once

#include <CLI/CLI.hpp>

namespace lb {

class JsonConfig : public CLI::Config {
 public:
  std::string to_config(const CLI::App*, bool, bool, std::string) const override;
  // Throws CLI::ConversionError naming the key path for unusable values.
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;
};

}  // namespace lb
