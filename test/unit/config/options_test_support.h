// What the config tests share: parse flags as main() would, catch the one-line
// error, and write a JSON config file that is removed afterwards.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "lb/config/options.h"

namespace options_test {

inline lb::Options parse(std::vector<const char*> args) {
  args.insert(args.begin(), "load_balancer");
  return lb::parse_options(static_cast<int>(args.size()), args.data());
}

// The OptionsError message, or "accepted".
inline std::string error_of(std::vector<const char*> args) {
  try {
    parse(args);
  } catch (const lb::OptionsError& e) {
    return e.what();
  }
  return "accepted";
}

// A JSON config file for one test, removed afterwards.
struct ConfigFile {
  std::string path = "/tmp/lb_options_test_" + std::to_string(::getpid()) + ".json";
  explicit ConfigFile(const std::string& text) { std::ofstream(path) << text; }
  ~ConfigFile() { std::remove(path.c_str()); }
};

}  // namespace options_test
