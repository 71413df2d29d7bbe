// Active health checking on a background std::thread.
//
// Every `interval` each backend is probed (in parallel, so one slow backend does
// not delay the others' verdicts); results pass through the backend's rise/fall
// thresholds, and only a change of verdict is logged, in the tutorial's words:
//   [Health Check] http://127.0.0.1:8002 is UNHEALTHY (connection refused)
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "lb/balancing/backend.h"

namespace lb {

struct ProbeResult {
  bool passed = false;
  std::string detail;  // "200", "status 503", "connection refused", "timeout", ...
};

// Checks one backend once. Injected so tests can drive the checker without sockets.
using Probe = std::function<ProbeResult(const Backend&)>;

// A probe that sends `GET path` with httplib::Client; any 2xx passes. For
// https:// backends the certificate is checked against `ca_file` (empty: the
// system store) unless `verify` is false.
Probe make_http_probe(const std::string& path, std::chrono::milliseconds timeout, bool verify = true,
                      const std::string& ca_file = "");

class HealthChecker {
 public:
  // `backends` is asked for the backends in service at each round, so backends
  // added or removed at run time are checked without restarting the checker.
  HealthChecker(std::function<BackendList()> backends, Probe probe, std::chrono::milliseconds interval);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Probes every backend once and records the results; returns when all are in.
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

  const std::function<BackendList()> backends_;
  const Probe probe_;
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;  // signalled by stop() and check_soon()
  bool stopping_ = false;         // guards: mutex_
  bool round_requested_ = false;  // guards: mutex_
  std::thread thread_;
};

}  // namespace lb
