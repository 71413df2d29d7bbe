// The --acme-* flags (lb/config/options.cpp) and what is checked before any
// of them is used: at start, on SIGHUP and by --check.
#pragma once

#include <string>
#include <vector>

namespace lb::acme {

struct AcmeSettings {
  std::vector<std::string> names;  // --acme-domain; none: ACME is off
  std::string directory_url = "https://acme-v02.api.letsencrypt.org/directory";
  std::string email;                             // --acme-email; "" for none
  std::string state_dir = "/var/lib/cpp-lb/acme";  // --acme-state
  std::string ca_file;                           // --acme-ca; "" for the system store
  bool http01 = false;  // --redirect-http listens, so HTTP-01 can be answered

  bool enabled() const { return !names.empty(); }
};

// "" when the settings can be used, else a one-line reason naming the flag:
// a name that is not a DNS name (or a wildcard, which needs DNS-01), a
// directory that is not an http(s) URL, an e-mail address that is not one,
// a CA file without PEM certificates. Reads the CA file; writes nothing.
std::string acme_settings_problem(const AcmeSettings& settings);

}  // namespace lb::acme
