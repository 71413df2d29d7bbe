#include "lb/balancing/event_log.h"

#include <cstdio>

#include "common/log.h"

namespace lb {

void log_health_change(const Backend& backend, bool healthy, const std::string& detail) {
  common::log_line("[Health Check] " + backend.url + (healthy ? " is HEALTHY" : " is UNHEALTHY (" + detail + ")"));
}

void log_ejection(const Backend& backend, std::chrono::milliseconds duration, int failures) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", duration.count() / 1000.0);
  common::log_line("[Health Check] " + backend.url + " is EJECTED for " + seconds + " s (" + std::to_string(failures) +
                   " consecutive failures)");
}

void log_ejection_end(const Backend& backend) {
  common::log_line("[Health Check] " + backend.url + " is back from ejection");
}

void log_circuit_change(const Backend& backend, const CircuitTransition& transition) {
  common::log_line("[Circuit Breaker] " + backend.url + " " + to_string(transition.from) + " -> " +
                   to_string(transition.to));
}

}  // namespace lb
