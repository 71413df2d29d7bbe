// Access log lines (combined and JSON) and the background writer.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

#include "lb/operations/access_log.h"

using namespace lb;

namespace {
AccessRecord sample() {
  AccessRecord r;
  r.client = "10.0.0.7";
  r.time = "24/Nov/2026:09:33:13 +0000";
  r.request_line = "GET /a?b=1 HTTP/1.1";
  r.status = 200;
  r.bytes = 1234;
  r.user_agent = "curl/7.88.1 \"quoted\"";
  r.backend = "http://127.0.0.1:8001";
  r.pool = "default";
  r.seconds = 0.0125;
  r.upstream_seconds = 0.01;
  return r;
}
}  // namespace

// The combined format matches nginx's, with backend and timings appended.
TEST_CASE("combined access log line", "[access_log]") {
  CHECK(format_access_line(sample(), AccessLogFormat::Combined) ==
        "10.0.0.7 - - [24/Nov/2026:09:33:13 +0000] \"GET /a?b=1 HTTP/1.1\" 200 1234 \"-\" "
        "\"curl/7.88.1 \\\"quoted\\\"\" backend=http://127.0.0.1:8001 rt=0.013 urt=0.010 pool=default");
  AccessRecord no_backend = sample();
  no_backend.backend.clear();
  no_backend.status = 503;
  CHECK_THAT(format_access_line(no_backend, AccessLogFormat::Combined), Catch::Contains(" 503 1234 ") &&
                                                                            Catch::Contains("backend=- "));
  // No route (404): no pool. With --request-id-header: the id, last.
  AccessRecord unrouted = no_backend;
  unrouted.pool.clear();
  unrouted.request_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  CHECK_THAT(format_access_line(unrouted, AccessLogFormat::Combined),
             Catch::Contains(" pool=- ") && Catch::EndsWith(" request_id=\"4bf92f3577b34da6a3ce929d0e0e4736\""));
  auto json = nlohmann::json::parse(format_access_line(unrouted, AccessLogFormat::Json));
  CHECK(json["request_id"] == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(json["pool"] == "");
  CHECK_FALSE(nlohmann::json::parse(format_access_line(sample(), AccessLogFormat::Json)).contains("request_id"));
}

// The JSON format is one object per line with every field.
TEST_CASE("json access log line", "[access_log]") {
  auto line = format_access_line(sample(), AccessLogFormat::Json);
  CHECK(line.find('\n') == std::string::npos);
  auto json = nlohmann::json::parse(line);
  CHECK(json["client"] == "10.0.0.7");
  CHECK(json["status"] == 200);
  CHECK(json["bytes"] == 1234);
  CHECK(json["backend"] == "http://127.0.0.1:8001");
  CHECK(json["pool"] == "default");
  CHECK(json["duration"] == Approx(0.0125));
}

// Lines written from many threads all reach the file, whole, once the log closes.
TEST_CASE("access log writer keeps every line", "[access_log]") {
  std::string path = "/tmp/lb_access_log_test_" + std::to_string(::getpid()) + ".log";
  {
    AccessLog log(path, AccessLogFormat::Combined);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 500; ++i) log.write(sample());
      });
    }
    for (auto& thread : threads) thread.join();
    CHECK(log.dropped() == 0);
  }
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    CHECK(line == format_access_line(sample(), AccessLogFormat::Combined));
    ++lines;
  }
  CHECK(lines == 2000);
  std::remove(path.c_str());
  CHECK_THROWS_WITH(AccessLog("/nonexistent/dir/x.log", AccessLogFormat::Json), Catch::Contains("/nonexistent/dir"));
}
