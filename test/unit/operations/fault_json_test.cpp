// The admin API's fault body: what is accepted, and that a refusal names the field.
#include <catch2/catch.hpp>

#include "lb/operations/fault_json.h"

using namespace lb;
using nlohmann::json;

TEST_CASE("fault JSON: fields, defaults and round trip", "[fault]") {
  FaultSettings fault;
  std::string error;
  REQUIRE(parse_fault(json::parse(R"({"abort_percent": 50, "abort_status": 500, "delay_ms": 250,
                                      "delay_percent": 12.5, "fail_health": true})"),
                      fault, error));
  CHECK(fault.abort_percent == 50);
  CHECK(fault.abort_status == 500);
  CHECK(fault.delay_ms == 250);
  CHECK(fault.delay_percent == 12.5);
  CHECK(fault.fail_health);
  CHECK(fault.slow_factor == 1);  // off unless given
  CHECK(fault_json(fault) == json::parse(R"({"abort_percent": 50.0, "abort_status": 500, "delay_ms": 250,
                                             "delay_percent": 12.5, "fail_health": true, "slow_factor": 1})"));

  REQUIRE(parse_fault(json::parse(R"({"slow_factor": 5})"), fault, error));
  CHECK(fault.slow_factor == 5);
  CHECK(fault.active());
  CHECK_FALSE(fault.fail_health);  // a gray failure: health still passes
  CHECK(fault_json(fault)["slow_factor"] == 5);
  REQUIRE(parse_fault(json::parse(R"({"slow_factor": 1})"), fault, error));
  CHECK_FALSE(fault.active());

  REQUIRE(parse_fault(json::parse(R"({"delay_ms": 500})"), fault, error));
  CHECK(fault == FaultSettings{0, 503, 500, 100, false});  // a PUT replaces the whole fault
  REQUIRE(parse_fault(json::object(), fault, error));
  CHECK_FALSE(fault.active());
  CHECK(fault_json(std::nullopt).is_null());
}

TEST_CASE("fault JSON: refusals name the field", "[fault]") {
  const std::pair<const char*, const char*> refused[] = {
      {R"({"abort_percent": 100.01})", "abort_percent must be a number from 0 to 100"},
      {R"({"abort_percent": null})", "abort_percent must be a number from 0 to 100"},
      {R"({"abort_status": 200})", "abort_status must be an integer from 400 to 599"},
      {R"({"abort_status": "503"})", "abort_status must be an integer from 400 to 599"},
      {R"({"delay_ms": -1})", "delay_ms must be an integer from 0 to 60000"},
      {R"({"delay_ms": 1.5})", "delay_ms must be an integer from 0 to 60000"},
      {R"({"delay_percent": 101})", "delay_percent must be a number from 0 to 100"},
      {R"({"fail_health": "yes"})", "fail_health must be true or false"},
      {R"({"slow_factor": 0.5})", "slow_factor must be a number from 1 to 100"},
      {R"({"slow_factor": 101})", "slow_factor must be a number from 1 to 100"},
      {R"({"slow_factor": "5"})", "slow_factor must be a number from 1 to 100"},
      {R"({"delay": 5})", "unknown field delay"},
      {R"("abort")", "body must be a JSON object"},
  };
  for (const auto& [body, message] : refused) {
    INFO(body);
    FaultSettings fault;
    fault.delay_ms = 7;
    std::string error;
    CHECK_FALSE(parse_fault(json::parse(body), fault, error));
    CHECK(error.rfind(message, 0) == 0);
    CHECK(fault.delay_ms == 7);  // untouched
  }
}
