// What /status and /metrics show of a pool's SRV sources: each one's last
// lookup and its lookup counts. Written by the discovery thread, read by the
// admin server; kept with the pool's PoolShared, so it survives reloads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace lb {

struct SrvLookupReport {
  bool ok = false;
  std::string error;  // of the last lookup, when it failed
  std::chrono::system_clock::time_point when{};
  uint64_t ok_total = 0;
  uint64_t failed_total = 0;
};

class DiscoveryReports {
 public:
  void record(const std::string& source, bool ok, const std::string& error, std::chrono::system_clock::time_point when) {
    std::lock_guard<std::mutex> lock(mutex_);
    SrvLookupReport& report = reports_[source];
    report.ok = ok;
    report.error = ok ? "" : error;
    report.when = when;
    ++(ok ? report.ok_total : report.failed_total);
  }
  // By source URL ("srv+http://NAME").
  std::map<std::string, SrvLookupReport> snapshot() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return reports_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, SrvLookupReport> reports_;  // guards: mutex_
};

}  // namespace lb
