// Runs a command line with /bin/sh for tests that drive real clients (curl,
// openssl, nghttp, h2load), bounded by `timeout 60`.
//
//   auto [status, output] = test_support::shell("curl -sS https://localhost:8443/");
#pragma once

#include <string>
#include <utility>

namespace test_support {

// The command's exit status (-1 if it did not exit normally) and its stdout and stderr together.
std::pair<int, std::string> shell(const std::string& command);

}  // namespace test_support
