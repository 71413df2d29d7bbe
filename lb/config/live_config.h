// From Options to what runs: the LiveSettings a start or a reload installs,
// and the TLS contexts each pool reaches its https:// backends with.
#pragma once

#include <memory>

#include "lb/acme/certificate_manager.h"
#include "lb/config/options.h"
#include "lb/proxy/proxy_context.h"

namespace lb {

// Certificates loaded and checked, trusted proxies parsed, the rate limiter
// built, or `running`'s kept when its rate, burst and store did not change
// (its buckets carry over a reload); `metrics` counts what the Redis limiter
// decides locally. The TLS listener serves the --tls-cert files and, with
// `acme`, each ACME name's current certificate and its TLS-ALPN-01 answers.
// Throws std::runtime_error with a one-line message naming the file when a
// certificate or key cannot be used.
std::shared_ptr<const LiveSettings> build_live_settings(const Options& options, const LiveSettings* running,
                                                        Metrics& metrics, const acme::CertificateManager* acme);

// Loads every pool's backend TLS files (PoolSettings::backend_tls) into its
// backend_tls_context, one context for the pools that name the same files.
// Read afresh each time (start, reload), so a renewed file is taken. Throws
// std::runtime_error naming the pool and the file when one cannot be used.
void load_backend_tls(std::vector<PoolSpec>& pools);

}  // namespace lb
