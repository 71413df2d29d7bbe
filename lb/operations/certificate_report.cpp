#include "lb/operations/certificate_report.h"

#include <cstdio>

namespace lb {

namespace {

double unix_seconds(acme::SystemTime time) {
  return std::chrono::duration<double>(time.time_since_epoch()).count();
}

}  // namespace

nlohmann::json certificates_json(const acme::CertificateManager& certificates, acme::SystemTime now) {
  nlohmann::json list = nlohmann::json::array();
  for (const acme::CertificateStatus& status : certificates.status()) {
    list.push_back({
        {"name", status.name},
        {"source", status.source},
        {"expires", acme::utc_text(status.not_after)},
        {"expires_in_seconds", std::chrono::duration_cast<std::chrono::seconds>(status.not_after - now).count()},
        {"next_attempt", acme::utc_text(status.next_attempt)},
        {"last_error", status.last_error},
    });
  }
  return list;
}

std::string certificates_metrics(const acme::CertificateManager& certificates) {
  std::string out =
      "# HELP lb_tls_certificate_expiry_seconds When each ACME name's certificate expires (Unix time; "
      "a placeholder's until the first issuance).\n"
      "# TYPE lb_tls_certificate_expiry_seconds gauge\n";
  for (const acme::CertificateStatus& status : certificates.status()) {
    char value[32];
    std::snprintf(value, sizeof value, "%.0f", unix_seconds(status.not_after));
    // Names are DNS names (checked by acme_settings_problem()): nothing to escape.
    out += "lb_tls_certificate_expiry_seconds{name=\"" + status.name + "\"} " + value + "\n";
  }
  return out;
}

}  // namespace lb
