// Automatic HTTPS in /status ("certificates") and /metrics
// (lb_tls_certificate_expiry_seconds{name}): each ACME name's certificate,
// where it came from, when it expires and when it is renewed.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "lb/acme/certificate_manager.h"

namespace lb {

nlohmann::json certificates_json(const acme::CertificateManager& certificates, acme::SystemTime now);
std::string certificates_metrics(const acme::CertificateManager& certificates);

}  // namespace lb
