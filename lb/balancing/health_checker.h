// Active health checking on a background std::thread.
//
// Every pool's health interval, each of its backends is probed on the pool's
// health path (in parallel, so one slow backend does not delay the others'
// verdicts); results pass through the backend's rise/fall thresholds, and only
// a change of verdict is logged, in the tutorial's words:
//   [Health Check] http://127.0.0.1:8002 is UNHEALTHY (connection refused)
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lb/balancing/backend.h"
#include "lb/transport/tls_context.h"

namespace lb {

struct ProbeResult {
  bool passed = false;
  std::string detail;  // "200", "status 503", "connection refused", "timeout", ...
};

// Resolves a backend's host name before each check (getaddrinfo by default;
// injected so tests can change "DNS"). None: the check fails with `error`.
using Resolver = std::function<ResolvedAddresses(const Backend&, std::string& error)>;
Resolver system_resolver();

// Checks one backend once on `path`, within `timeout`, an https:// one with
// its pool's TLS files. Injected so tests can drive the checker without sockets.
using Probe = std::function<ProbeResult(const Backend&, const std::string& path, std::chrono::milliseconds timeout,
                                        const TlsClientFiles& tls)>;

// A probe that sends `GET path` with httplib::Client; any 2xx passes. For
// https:// backends the certificate is checked against `tls.ca_file` (empty:
// the system store) unless `tls.verify` is false, and `tls.certificate` is
// presented when given (its first certificate only: httplib loads no chain).
Probe make_http_probe();

// One pool's checks: its backends, its path, interval and timeout.
struct HealthTarget {
  std::string pool;
  std::string path;
  std::chrono::milliseconds interval;
  BackendList backends;
  std::chrono::milliseconds timeout{2000};
  TlsClientFiles tls{};  // the pool's CA and client certificate for https:// backends
};

// The background thread's timetable, one entry per pool: returns the targets
// whose round is due at `now` and moves their next round one interval on; a
// pool seen for the first time is due one interval after `now` (its first
// round was run_round()'s). `wake` becomes the earliest next round. Pure, so
// tests drive it with a made-up clock.
using HealthTimetable = std::map<std::string, std::chrono::steady_clock::time_point>;
std::vector<HealthTarget> take_due_rounds(HealthTimetable& timetable, const std::vector<HealthTarget>& targets,
                                          std::chrono::steady_clock::time_point now,
                                          std::chrono::steady_clock::time_point& wake);

class HealthChecker {
 public:
  // `targets` is asked for the pools in service at each round, so backends
  // and pools added or removed at run time are checked without restarting the checker.
  HealthChecker(std::function<std::vector<HealthTarget>()> targets, Probe probe,
                Resolver resolver = system_resolver());
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Probes every backend of every pool once and records the results; returns when all are in.
  void run_round();
  // Starts the background thread (first round after one interval: run_round()
  // at start-up is the caller's job, before the listener opens).
  void start();
  // Asks the background thread for a round now rather than at the next
  // interval (a backend was just added). Returns at once.
  void check_soon();
  // Wakes and joins the thread; safe to call more than once.
  void stop();

 private:
  void loop();
  void run_rounds(const std::vector<HealthTarget>& targets);
  ProbeResult resolve_and_probe(Backend& backend, const HealthTarget& target);

  const std::function<std::vector<HealthTarget>()> targets_;
  const Probe probe_;
  const Resolver resolver_;
  std::mutex mutex_;
  std::condition_variable wake_;  // signalled by stop() and check_soon()
  bool stopping_ = false;         // guards: mutex_
  bool round_requested_ = false;  // guards: mutex_
  std::thread thread_;
};

}  // namespace lb
