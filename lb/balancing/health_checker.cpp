#include "lb/balancing/health_checker.h"

#include <httplib.h>

#include <vector>

#include "lb/balancing/event_log.h"

namespace lb {

namespace {

std::string describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection: return "connection refused";
    case httplib::Error::ConnectionTimeout: return "connect timeout";
    case httplib::Error::Read: return "timeout or read error";
    case httplib::Error::Write: return "write error";
    case httplib::Error::SSLConnection: return "TLS handshake failed";
    case httplib::Error::SSLServerVerification: return "TLS certificate verification failed";
    default: return httplib::to_string(error);
  }
}

}  // namespace

Probe make_http_probe(const std::string& path, std::chrono::milliseconds timeout, bool verify,
                      const std::string& ca_file) {
  return [path, timeout, verify, ca_file](const Backend& backend) {
    httplib::Client client(backend.url);
    client.enable_server_certificate_verification(verify);
    if (!ca_file.empty()) client.set_ca_cert_path(ca_file);
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    client.set_keep_alive(false);
    auto response = client.Get(path.c_str());
    if (!response) return ProbeResult{false, describe(response.error())};
    bool passed = response->status >= 200 && response->status < 300;
    return ProbeResult{passed, passed ? std::to_string(response->status)
                                      : "status " + std::to_string(response->status)};
  };
}

HealthChecker::HealthChecker(std::function<BackendList()> backends, Probe probe, std::chrono::milliseconds interval)
    : backends_(std::move(backends)), probe_(std::move(probe)), interval_(interval) {}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::run_round() {
  const BackendList backends = backends_();
  std::vector<ProbeResult> results(backends.size());
  std::vector<std::thread> probes;
  probes.reserve(backends.size());
  for (size_t i = 0; i < backends.size(); ++i) {
    probes.emplace_back([&, i] { results[i] = probe_(*backends[i]); });
  }
  for (auto& probe : probes) probe.join();
  const auto now = Backend::Clock::now();
  for (size_t i = 0; i < backends.size(); ++i) {
    if (backends[i]->record_check(results[i].passed, results[i].detail)) {
      log_health_change(*backends[i], backends[i]->healthy(), results[i].detail);
    }
    // An ejection ends by the clock (selection reads it); this is where it is logged.
    if (backends[i]->take_ejection_end(now)) log_ejection_end(*backends[i]);
  }
}

void HealthChecker::start() { thread_ = std::thread([this] { loop(); }); }

void HealthChecker::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HealthChecker::check_soon() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    round_requested_ = true;
  }
  wake_.notify_all();
}

void HealthChecker::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, interval_, [this] { return stopping_ || round_requested_; });
    if (stopping_) return;
    round_requested_ = false;
    lock.unlock();
    run_round();
    lock.lock();
  }
}

}  // namespace lb
