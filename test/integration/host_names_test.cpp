// Backends named by host name (README "Running several
// instances"): resolved at every health check, and a name that does not
// resolve makes its backend unhealthy with the resolver's reason. (Following a
// changed answer is unit-tested with a made-up resolver: health_test.cpp.)
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <nlohmann/json.hpp>

#include "test/support/backend_process.h"
#include "test/support/eventually.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("a backend name that does not resolve is unhealthy, with the reason", "[integration][dns]") {
  ::setenv("RES_OPTIONS", "timeout:1 attempts:1", 1);  // a missing DNS server costs a second, not ten
  BackendProcess named;
  const std::string by_name = "http://localhost:" + std::to_string(named.port());
  const std::string nowhere = "http://no-such-host.invalid:80";
  LoadBalancerProcess lb({by_name, nowhere}, {"--admin-port", "0", "--health-interval", "0.2"});
  for (int i = 0; i < 4; ++i) {
    RawResponse response = http_request(lb.port(), build_request("GET", "/"));
    CHECK(response.status == 200);
    CHECK(json::parse(response.body)["server_id"] == named.id());
  }
  json status = json::parse(http_request(lb.admin_port(), build_request("GET", "/status")).body);
  REQUIRE(status["backends"].size() == 2);
  CHECK(status["backends"][0]["healthy"] == true);
  CHECK(status["backends"][1]["healthy"] == false);
  CHECK_THAT(status["backends"][1]["last_check"]["detail"].get<std::string>(),
             Catch::StartsWith("cannot resolve host: "));
  CHECK(lb.process().wait_for_line(nowhere + " is UNHEALTHY (cannot resolve host: ", 2s));
}
