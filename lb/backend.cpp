#include "lb/backend.h"

#include <openssl/sha.h>

#include <cstdio>

namespace lb {

namespace {

// First 6 bytes of SHA-256(url) in hex: stable across restarts and instances.
std::string id_for(const std::string& url) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(url.data()), url.size(), digest);
  char hex[13];
  for (int i = 0; i < 6; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return hex;
}

// The Host a client would have sent for this backend's URL (RFC 9110 7.2):
// IPv6 literals in brackets, the scheme's default port left out.
std::string host_header_for(const BackendSpec& spec) {
  std::string host = spec.host.find(':') != std::string::npos ? "[" + spec.host + "]" : spec.host;
  const uint16_t default_port = spec.scheme == "https" ? 443 : 80;
  return spec.port == default_port ? host : host + ":" + std::to_string(spec.port);
}

}  // namespace

Backend::Backend(BackendSpec backend_spec, const BackendSettings& settings)
    : spec(std::move(backend_spec)),
      url(spec.url()),
      id(id_for(url)),
      host_header(host_header_for(spec)),
      health_(settings.rise, settings.fall),
      pool_(settings.max_idle_connections, settings.max_idle_time),
      breaker_(settings.circuit) {}

bool Backend::record_check(bool passed, const std::string& detail) {
  bool flipped;
  {
    std::lock_guard<std::mutex> lock(health_mutex_);
    (passed ? checks_passed : checks_failed).fetch_add(1, std::memory_order_relaxed);
    flipped = health_.record(passed);
    last_check_ = LastCheck{passed, detail, std::chrono::system_clock::now()};
    healthy_.store(health_.healthy(), std::memory_order_release);
  }
  if (flipped && !passed) pool_.clear();
  return flipped;
}

bool Backend::mark_down(const std::string& detail) {
  bool flipped;
  {
    std::lock_guard<std::mutex> lock(health_mutex_);
    flipped = health_.force_down();
    last_check_ = LastCheck{false, detail, std::chrono::system_clock::now()};
    healthy_.store(false, std::memory_order_release);
  }
  if (flipped) pool_.clear();
  return flipped;
}

LastCheck Backend::last_check() const {
  std::lock_guard<std::mutex> lock(health_mutex_);
  return last_check_;
}

}  // namespace lb
