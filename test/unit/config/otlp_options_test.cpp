// --otlp-endpoint and --otlp-service-name (README "Traces").
#include <catch2/catch.hpp>

#include "test/unit/config/options_test_support.h"

using namespace options_test;

TEST_CASE("otlp flags: off by default, an http(s) URL when given", "[options][traces]") {
  const lb::Options plain = parse({"-b", "http://127.0.0.1:8001"});
  CHECK(plain.otlp_endpoint.empty());
  CHECK(plain.otlp_service_name == "cpp-lb");
  const lb::Options traced = parse({"-b", "http://127.0.0.1:8001", "--otlp-endpoint", "http://127.0.0.1:4318",
                                    "--otlp-service-name", "edge"});
  CHECK(traced.otlp_endpoint == "http://127.0.0.1:4318");
  CHECK(traced.otlp_service_name == "edge");
  CHECK(error_of({"-b", "http://127.0.0.1:8001", "--otlp-endpoint", "127.0.0.1:4318"}) ==
        "--otlp-endpoint: '127.0.0.1:4318' is not an http:// or https:// URL");
  CHECK(error_of({"-b", "http://127.0.0.1:8001", "--otlp-endpoint", "http://"}) == "--otlp-endpoint: 'http://' has no host");
  CHECK(error_of({"-b", "http://127.0.0.1:8001", "--otlp-service-name", ""}) == "--otlp-service-name: must not be empty");
}
