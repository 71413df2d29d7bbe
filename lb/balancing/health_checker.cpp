#include "lb/balancing/health_checker.h"

#include <httplib.h>

#include <algorithm>
#include <vector>

#include "common/http_client_error.h"
#include "common/log.h"
#include "lb/balancing/event_log.h"

namespace lb {

Probe make_http_probe() {
  return [](const Backend& backend, const std::string& path, std::chrono::milliseconds timeout,
            const TlsClientFiles& tls) {
    const TlsCertificate& mine = tls.certificate;
    httplib::Client client = mine.cert_file.empty() ? httplib::Client(backend.url)
                                                    : httplib::Client(backend.url, mine.cert_file, mine.key_file);
    // To the address the checker resolved (through --resolver when given), where requests go too.
    if (const auto addresses = backend.addresses(); addresses && !addresses->empty()) {
      client.set_hostname_addr_map({{backend.spec.host, address_text(addresses->front())}});
    }
    client.enable_server_certificate_verification(tls.verify);
    if (!tls.ca_file.empty()) client.set_ca_cert_path(tls.ca_file);
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    client.set_keep_alive(false);
    auto response = client.Get(path.c_str());
    if (!response) return ProbeResult{false, common::describe_client_error(response.error())};
    bool passed = response->status >= 200 && response->status < 300;
    return ProbeResult{passed, passed ? std::to_string(response->status)
                                      : "status " + std::to_string(response->status)};
  };
}

std::vector<HealthTarget> take_due_rounds(HealthTimetable& timetable, const std::vector<HealthTarget>& targets,
                                          std::chrono::steady_clock::time_point now,
                                          std::chrono::steady_clock::time_point& wake) {
  std::vector<HealthTarget> due;
  wake = now + std::chrono::hours(1);
  for (const auto& target : targets) {
    auto [next, first_seen] = timetable.try_emplace(target.pool, now + target.interval);
    if (!first_seen && next->second <= now) {
      due.push_back(target);
      next->second = now + target.interval;
    }
    wake = std::min(wake, next->second);
  }
  return due;
}

Resolver system_resolver() {
  return [](const Backend& backend, std::string& error) {
    return resolve_host(backend.spec.host, backend.spec.port, error);
  };
}

HealthChecker::HealthChecker(std::function<std::vector<HealthTarget>()> targets, Probe probe, Resolver resolver)
    : targets_(std::move(targets)), probe_(std::move(probe)), resolver_(std::move(resolver)) {}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::run_round() { run_rounds(targets_()); }

void HealthChecker::run_rounds(const std::vector<HealthTarget>& targets) {
  struct Check {
    Backend* backend;
    const HealthTarget* target;  // its pool's path and timeout
    ProbeResult result;
  };
  std::vector<Check> checks;
  for (const auto& target : targets) {
    for (const auto& backend : target.backends) checks.push_back({backend.get(), &target, {}});
  }
  std::vector<std::thread> probes;
  probes.reserve(checks.size());
  for (auto& check : checks) {
    probes.emplace_back([this, &check] { check.result = resolve_and_probe(*check.backend, *check.target); });
  }
  for (auto& probe : probes) probe.join();
  const auto now = Backend::Clock::now();
  size_t next = 0;  // `checks` holds them in this same order
  for (const auto& target : targets) {
    for (const auto& backend : target.backends) {
      const ProbeResult& result = checks[next++].result;
      if (backend->record_check(result.passed, result.detail)) {
        log_health_change(*backend, backend->healthy(), result.detail);
      }
      // An ejection ends by the clock (selection reads it); this is where it is logged.
      if (backend->take_ejection_end(now)) log_ejection_end(*backend);
    }
  }
}

// The name first: a backend whose name stops resolving is down for that reason.
ProbeResult HealthChecker::resolve_and_probe(Backend& backend, const HealthTarget& target) {
  // An injected fail_health fault: the check fails without touching the backend.
  if (auto fault = backend.fault(); fault && fault->fail_health) return ProbeResult{false, "injected fault: fail_health"};
  std::string error;
  ResolvedAddresses addresses = resolver_(backend, error);
  if (addresses.empty()) return ProbeResult{false, error};
  std::string listed;
  for (const auto& address : addresses) listed += (listed.empty() ? "" : ", ") + address_text(address);
  if (backend.set_addresses(std::move(addresses))) {
    common::log_line("[DNS] " + backend.spec.host + " (" + backend.url + ") now resolves to " + listed);
  }
  return probe_(backend, target.path, target.timeout, target.tls);
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
  HealthTimetable timetable;  // only this thread uses it
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    lock.unlock();
    std::vector<HealthTarget> targets = targets_();
    const auto now = std::chrono::steady_clock::now();
    auto wake = now;
    std::vector<HealthTarget> due = take_due_rounds(timetable, targets, now, wake);
    if (!due.empty()) run_rounds(due);
    lock.lock();
    if (stopping_) return;
    if (!due.empty()) continue;  // time has passed: look at the timetable again
    wake_.wait_until(lock, wake, [this] { return stopping_ || round_requested_; });
    if (stopping_) return;
    if (round_requested_) {
      round_requested_ = false;
      lock.unlock();
      run_rounds(targets_());
      lock.lock();
    }
  }
}

}  // namespace lb
