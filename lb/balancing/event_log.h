// The state changes worth a log line: one line per change, never per probe.
#pragma once

#include <chrono>
#include <string>

#include "lb/balancing/backend.h"

namespace lb {

// [Health Check] http://127.0.0.1:8002 is UNHEALTHY (connection refused)
void log_health_change(const Backend& backend, bool healthy, const std::string& detail);

// [Health Check] http://127.0.0.1:8002 is EJECTED for 10 s (5 consecutive failures)
void log_ejection(const Backend& backend, std::chrono::milliseconds duration, int failures);
// [Health Check] http://127.0.0.1:8002 is back from ejection
void log_ejection_end(const Backend& backend);

// [Circuit Breaker] http://127.0.0.1:8002 closed -> open
void log_circuit_change(const Backend& backend, const CircuitTransition& transition);

}  // namespace lb
