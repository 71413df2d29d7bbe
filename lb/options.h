// Command-line options of load_balancer (CLI11 lives only here).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "lb/backend.h"
#include "lb/proxy_context.h"

namespace lb {

struct Options {
  std::vector<BackendSpec> backends;
  int port = 8000;                 // 0 picks a free port
  std::string bind = "0.0.0.0";
  std::string algorithm = "round-robin";
  std::string health_path = "/health";
  double health_interval = 5;      // seconds
  double health_timeout = 2;       // seconds
  int health_rise = 1;
  int health_fall = 1;
  std::size_t max_connections = 10000;
  std::size_t upstream_keepalive = 128;  // idle connections kept per backend
  std::string sticky_cookie;             // empty: no session persistence
  std::string sticky_secret;             // mixed into sticky cookie values
  double drain_timeout = 10;             // seconds to finish in-flight requests on stop
  ProxySettings proxy;
};

// Thrown for bad input; `what()` is the one-line message for stderr.
struct OptionsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown when --help printed the usage text: exit 0.
struct HelpRequested {};

// Parses argv. Throws OptionsError (exit 2) or HelpRequested (exit 0).
Options parse_options(int argc, const char* const* argv);

}  // namespace lb
