// PUT /backends/{id}/weight (README "Admin server"): a backend's share of its
// pool changes at once, without --config-etcd too; bad bodies are refused.
#include <catch2/catch.hpp>

#include <map>

#include <nlohmann/json.hpp>

#include "test/support/backend_process.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"

using namespace test_support;
using nlohmann::json;

TEST_CASE("admin weight: PUT /backends/{id}/weight changes the share, 400 and 404 otherwise", "[admin][weight]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()}, {"--admin-port", "0"});
  const int admin = lb.admin_port();
  const json status = json::parse(http_get(admin, "/status").body);
  std::string a_id;
  for (const json& backend : status["backends"]) {
    if (backend["url"] == a.url()) a_id = backend["id"];
  }
  REQUIRE(!a_id.empty());
  auto put_weight = [&](const std::string& id, const std::string& body) {
    return http_request(admin, build_request("PUT", "/backends/" + id + "/weight", {}, body));
  };

  const RawResponse changed = put_weight(a_id, R"({"weight": 3})");
  REQUIRE(changed.status == 200);
  CHECK(json::parse(changed.body)["weight"] == 3);
  CHECK_FALSE(json::parse(changed.body).contains("shared_config_error"));  // no --config-etcd: nothing to share
  // Smooth weighted round-robin: 3 of every 4 requests to a.
  std::map<std::string, int> served;
  for (int i = 0; i < 8; ++i) served[json::parse(http_get(lb.port()).body)["server_id"]]++;
  CHECK(served[a.id()] == 6);
  CHECK(served[b.id()] == 2);

  for (const std::string bad : {R"({"weight": 0})", R"({"weight": 1001})", R"({"weight": "5"})", R"({"weight": 2.5})",
                                 R"({"weight": 2, "extra": 1})", "", "not json"}) {
    INFO(bad);
    CHECK(put_weight(a_id, bad).status == 400);
  }
  CHECK(put_weight("0123456789ab", R"({"weight": 2})").status == 404);
  CHECK(json::parse(http_get(admin, "/status").body)["backends"][0]["weight"] == 3);  // the refusals changed nothing
}
