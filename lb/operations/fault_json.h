// The admin API's fault body (README "Fault injection"), both ways:
//   {"abort_percent": 0-100, "abort_status": 400-599, "delay_ms": 0-60000,
//    "delay_percent": 0-100, "fail_health": bool, "slow_factor": 1-100}
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "lb/protection/fault_injection.h"

namespace lb {

// Reads a PUT body. Every field is optional; an unknown field, a wrong type or
// a value out of range is refused with `error` naming the field.
bool parse_fault(const nlohmann::json& body, FaultSettings& fault, std::string& error);

// For /status: null when there is no fault.
nlohmann::json fault_json(const std::optional<FaultSettings>& fault);

}  // namespace lb
