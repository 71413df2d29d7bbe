// Several instances behaving as one (README "Running several
// instances"): one rate limit through a shared redis-server, the
// local fallback while Redis is away, and sticky cookies that agree.
#include <catch2/catch.hpp>

#include <map>
#include <nlohmann/json.hpp>

#include "test/support/backend_process.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/redis_process.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// `count` requests, alternating between the two instances, each on a new
// connection; the answers by status.
std::map<int, int> alternate(LoadBalancerProcess& first, LoadBalancerProcess& second, int count) {
  std::map<int, int> statuses;
  for (int i = 0; i < count; ++i) {
    ++statuses[http_request((i % 2 ? second : first).port(), build_request("GET", "/")).status];
  }
  return statuses;
}

std::vector<std::string> limited(const std::string& redis_url, const std::string& rate, const std::string& burst) {
  return {"--rate-limit", rate, "--rate-burst", burst, "--rate-limit-redis", redis_url, "--admin-port", "0"};
}

}  // namespace

TEST_CASE("two instances sharing one Redis enforce one limit", "[integration][shared-limits]") {
  REQUIRE(RedisProcess::installed());  // scripts/deps.sh --test installs redis-server
  RedisProcess redis;
  BackendProcess backend;
  LoadBalancerProcess one({backend.url()}, limited(redis.url(), "10", "10"));
  LoadBalancerProcess two({backend.url()}, limited(redis.url(), "10", "10"));
  std::map<int, int> statuses = alternate(one, two, 40);
  INFO("200: " << statuses[200] << ", 429: " << statuses[429]);
  CHECK(statuses[200] >= 9);  // 10 from the burst, maybe one refilled meanwhile
  CHECK(statuses[200] <= 11);
  CHECK(statuses[200] + statuses[429] == 40);
}

TEST_CASE("Redis away: local limits, no error to clients, and back", "[integration][shared-limits]") {
  REQUIRE(RedisProcess::installed());
  RedisProcess redis;
  BackendProcess backend;
  // 0.1 tokens a second: the counts below are the bursts, whatever the timing.
  LoadBalancerProcess one({backend.url()}, limited(redis.url(), "0.1", "5"));
  LoadBalancerProcess two({backend.url()}, limited(redis.url(), "0.1", "5"));
  CHECK(alternate(one, two, 20)[200] == 5);  // one shared bucket

  redis.stop();
  std::map<int, int> local = alternate(one, two, 20);
  CHECK(local[200] == 10);  // each instance's own bucket of 5
  CHECK(local[200] + local[429] == 20);
  CHECK(one.process().wait_for_line("[Rate Limit] Redis at " + redis.url() + " unreachable", 2s));
  CHECK(one.process().count_lines("unreachable") == 1);  // logged once
  std::string metrics = http_request(one.admin_port(), build_request("GET", "/metrics")).body;
  CHECK_THAT(metrics, Catch::Contains("lb_rate_limit_local_decisions_total 10"));

  redis.start();  // empty: a fresh shared bucket of 5
  std::this_thread::sleep_for(1200ms);  // Redis is asked again at most a second after it failed
  CHECK(alternate(one, two, 20)[200] == 5);
  CHECK(one.process().wait_for_line("[Rate Limit] Redis at " + redis.url() + " answers again", 2s));
}

// The cookie is an HMAC of the backend and the secret: any instance with the
// same backends and secret reads the other's cookie.
TEST_CASE("sticky cookies agree across instances", "[integration][shared-limits][sticky]") {
  BackendProcess a, b, c;
  const std::vector<std::string> sticky = {"--sticky-cookie", "lb", "--sticky-secret", "shared-secret"};
  LoadBalancerProcess one({a.url(), b.url(), c.url()}, sticky);
  LoadBalancerProcess two({a.url(), b.url(), c.url()}, sticky);
  for (int i = 0; i < 3; ++i) {
    RawResponse first = http_request(one.port(), build_request("GET", "/"));
    REQUIRE(first.header("Set-Cookie"));
    const std::string cookie = first.header("Set-Cookie")->substr(0, first.header("Set-Cookie")->find(';'));
    const std::string pinned = json::parse(first.body)["server_id"];
    for (int j = 0; j < 3; ++j) {
      RawResponse other = http_request(two.port(), build_request("GET", "/", {{"Cookie", cookie}}));
      CHECK(json::parse(other.body)["server_id"] == pinned);
      CHECK_FALSE(other.header("Set-Cookie"));  // already pinned: nothing to set
    }
  }
}
