// Parsing of --backend URL[,weight=N].
#include <catch2/catch.hpp>

#include "lb/balancing/backend_url.h"

using lb::parse_backend_spec;

// Accepted forms, defaults and the canonical URL.
TEST_CASE("backend specs parse", "[url]") {
  auto a = parse_backend_spec("http://127.0.0.1:8001");
  CHECK(a.scheme == "http");
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 8001);
  CHECK(a.weight == 1);
  CHECK(a.url() == "http://127.0.0.1:8001");

  auto b = parse_backend_spec("https://api.example.com,weight=5");
  CHECK(b.port == 443);
  CHECK(b.weight == 5);

  auto c = parse_backend_spec("http://[::1]:8002/");
  CHECK(c.host == "::1");
  CHECK(c.url() == "http://[::1]:8002");

  CHECK(parse_backend_spec("http://localhost").port == 80);
  CHECK(parse_backend_spec("http://h:1,weight=1000").weight == 1000);
}

// Each kind of bad input is rejected with a message naming the problem.
TEST_CASE("bad backend specs are rejected with a reason", "[url]") {
  auto message = [](const std::string& text) {
    try {
      parse_backend_spec(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(message("127.0.0.1:8001"), Catch::Contains("http://"));
  CHECK_THAT(message("ftp://h:1"), Catch::Contains("scheme"));
  CHECK_THAT(message("http://:8001"), Catch::Contains("no host"));
  CHECK_THAT(message("http://h:0"), Catch::Contains("port"));
  CHECK_THAT(message("http://h:65536"), Catch::Contains("port"));
  CHECK_THAT(message("http://h:80x"), Catch::Contains("port"));
  CHECK_THAT(message("http://h:"), Catch::Contains("empty port"));
  CHECK_THAT(message("http://h:1/path"), Catch::Contains("path"));
  CHECK_THAT(message("http://h:1,weight=0"), Catch::Contains("weight"));
  CHECK_THAT(message("http://h:1,weight=1001"), Catch::Contains("weight"));
  CHECK_THAT(message("http://h:1,weight=abc"), Catch::Contains("weight"));
  CHECK_THAT(message("http://h:1,speed=3"), Catch::Contains("unknown backend option"));
  CHECK_THAT(message("http://::1:80"), Catch::Contains("brackets"));
}

TEST_CASE("a backend may carry its own max_requests beside its weight", "[url]") {
  CHECK_FALSE(parse_backend_spec("http://a:1").max_requests);
  const auto fixed = parse_backend_spec("http://a:1,weight=3,max_requests=8");
  CHECK(fixed.weight == 3);
  REQUIRE(fixed.max_requests);
  CHECK(fixed.max_requests->text() == "8");
  CHECK(parse_backend_spec("http://a:1,max_requests=auto,weight=2").max_requests->text() == "auto");
  CHECK_THROWS_WITH(parse_backend_spec("http://a:1,max_requests=lots"), Catch::Contains("0-100000 or auto"));
  CHECK_THROWS_WITH(parse_backend_spec("http://a:1,colour=red"), Catch::Contains("unknown backend option"));
}
