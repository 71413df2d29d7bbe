#include "lb/operations/fault_json.h"

namespace lb {

namespace {

// A number in [low, high] at body[name], when present.
bool read_number(const nlohmann::json& body, const char* name, double low, double high, bool integer, double& out,
                 std::string& error) {
  if (!body.contains(name)) return true;
  const nlohmann::json& value = body[name];
  const bool ok_type = integer ? value.is_number_integer() : value.is_number();
  if (!ok_type || value.get<double>() < low || value.get<double>() > high) {
    error = std::string(name) + " must be " + (integer ? "an integer" : "a number") + " from " +
            std::to_string(static_cast<long>(low)) + " to " + std::to_string(static_cast<long>(high));
    return false;
  }
  out = value.get<double>();
  return true;
}

}  // namespace

bool parse_fault(const nlohmann::json& body, FaultSettings& fault, std::string& error) {
  if (!body.is_object()) {
    error = "body must be a JSON object like {\"abort_percent\": 50, \"abort_status\": 503}";
    return false;
  }
  for (const auto& field : body.items()) {
    const std::string& name = field.key();
    if (name != "abort_percent" && name != "abort_status" && name != "delay_ms" && name != "delay_percent" &&
        name != "fail_health" && name != "slow_factor") {
      error = "unknown field " + name;
      return false;
    }
  }
  FaultSettings parsed;
  double status = parsed.abort_status, delay = 0;
  if (!read_number(body, "abort_percent", 0, 100, false, parsed.abort_percent, error) ||
      !read_number(body, "abort_status", 400, 599, true, status, error) ||
      !read_number(body, "delay_ms", 0, 60000, true, delay, error) ||
      !read_number(body, "delay_percent", 0, 100, false, parsed.delay_percent, error) ||
      !read_number(body, "slow_factor", 1, 100, false, parsed.slow_factor, error)) {
    return false;
  }
  if (body.contains("fail_health")) {
    if (!body["fail_health"].is_boolean()) {
      error = "fail_health must be true or false";
      return false;
    }
    parsed.fail_health = body["fail_health"].get<bool>();
  }
  parsed.abort_status = static_cast<int>(status);
  parsed.delay_ms = static_cast<int>(delay);
  fault = parsed;
  return true;
}

nlohmann::json fault_json(const std::optional<FaultSettings>& fault) {
  if (!fault) return nullptr;
  return {
      {"abort_percent", fault->abort_percent}, {"abort_status", fault->abort_status},
      {"delay_ms", fault->delay_ms},           {"delay_percent", fault->delay_percent},
      {"fail_health", fault->fail_health},     {"slow_factor", fault->slow_factor},
  };
}

}  // namespace lb
