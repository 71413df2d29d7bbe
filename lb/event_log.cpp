#include "lb/event_log.h"

#include "common/log.h"

namespace lb {

void log_health_change(const Backend& backend, bool healthy, const std::string& detail) {
  common::log_line("[Health Check] " + backend.url + (healthy ? " is HEALTHY" : " is UNHEALTHY (" + detail + ")"));
}

void log_circuit_change(const Backend& backend, const CircuitTransition& transition) {
  common::log_line("[Circuit Breaker] " + backend.url + " " + to_string(transition.from) + " -> " +
                   to_string(transition.to));
}

}  // namespace lb
