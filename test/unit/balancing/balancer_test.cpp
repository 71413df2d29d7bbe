// The Balancer's Topology: pools, routes resolved to pools, changes swapped whole.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "lb/balancing/balancer.h"

using namespace lb;

namespace {

PoolSpec pool(const std::string& name, std::vector<uint16_t> ports, const std::string& algorithm = "round-robin") {
  PoolSpec spec;
  spec.settings.name = name;
  spec.settings.policy.algorithm = algorithm;
  for (uint16_t port : ports) spec.backends.push_back({"http", "127.0.0.1", port, 1});
  return spec;
}

Route route(const std::string& match, const std::string& pool_name) {
  Route r = parse_route_match(match);
  r.pool = pool_name;
  return r;
}

}  // namespace

TEST_CASE("routes resolve to their pools, each pool has its own selector", "[balancer]") {
  Balancer balancer({}, {pool("web", {8001, 8002}), pool("api", {8003}, "least-connections")},
                    {route("api.example.com", "api"), route("/", "web")});
  auto topology = balancer.current();
  REQUIRE(topology->pools.size() == 2);
  CHECK(topology->default_pool == nullptr);
  const Route* api = topology->router.match("api.example.com", "/x");
  REQUIRE(api);
  CHECK(topology->pools[api->pool_index]->settings.name == "api");
  CHECK(std::string(topology->pools[api->pool_index]->selector->name()) == "least-connections");
  CHECK(topology->find("web")->backends.size() == 2);
  CHECK(topology->all_backends().size() == 3);
  CHECK(topology->find("web")->backends[0]->pool_name == "web");
}

TEST_CASE("a route to an unknown pool is refused and changes nothing", "[balancer]") {
  Balancer balancer({}, {pool("default", {8001})}, {});
  const uint64_t generation = balancer.generation();
  CHECK_THROWS_AS(balancer.reconfigure({}, {pool("default", {8001})}, {route("/api", "api")}), std::invalid_argument);
  CHECK(balancer.generation() == generation);
  CHECK(balancer.current()->router.empty());
}

TEST_CASE("reconfigure keeps backends of the same pool, URL and weight", "[balancer]") {
  Balancer balancer({}, {pool("default", {8001, 8002}), pool("api", {8001})}, {route("/api", "api"), route("/", "default")});
  auto before = balancer.current();
  auto kept = before->find("default")->backends[0];
  kept->requests_total = 7;
  balancer.reconfigure({}, {pool("default", {8001}), pool("api", {8001}), pool("new", {8009})},
                       {route("/new", "new"), route("/", "default")});
  auto after = balancer.current();
  CHECK(after->find("default")->backends[0] == kept);
  CHECK(after->find("api")->backends[0] == before->find("api")->backends[0]);
  CHECK(after->find("default")->backends[0] != after->find("api")->backends[0]);  // same URL, two pools
  CHECK(after->find("new"));
  CHECK(after->router.routes().size() == 2);
  // The request that began before the change still holds the old pools and routes.
  CHECK(before->find("default")->backends.size() == 2);
  CHECK(before->router.match("h", "/api/x")->pool == "api");
}

// A weight change keeps the backend (its health and counters); "drain" is
// applied only when the configuration says it, so a silent one keeps an admin drain.
TEST_CASE("reconfigure takes a new weight and a stated drain on a kept backend", "[balancer]") {
  Balancer balancer({}, {pool("default", {8001, 8002})}, {});
  auto first = balancer.current()->find("default")->backends[0];
  auto second = balancer.current()->find("default")->backends[1];
  second->draining = true;  // an admin drain
  PoolSpec changed = pool("default", {8001, 8002});
  changed.backends[0].weight = 5;
  changed.backends[0].draining = true;
  balancer.reconfigure({}, {changed}, {});
  CHECK(balancer.current()->find("default")->backends[0] == first);
  CHECK(first->weight() == 5);
  CHECK(first->draining);
  CHECK(second->draining);  // the configuration said nothing of it
  changed.backends[0].draining = false;
  balancer.reconfigure({}, {changed}, {});
  CHECK_FALSE(first->draining);
  PoolSpec added = pool("default", {8001, 8002, 8003});
  added.backends[2].draining = true;
  balancer.reconfigure({}, {added}, {});
  CHECK(balancer.current()->find("default")->backends[2]->draining);
  CHECK(first->weight() == 1);
}

TEST_CASE("admin add names a pool, other pools keep their selector", "[balancer]") {
  Balancer balancer({}, {pool("default", {8001}), pool("api", {8002})}, {});
  auto untouched = balancer.current()->pools[0];
  std::string error;
  auto added = balancer.add("api", {"http", "127.0.0.1", 8003, 1}, error);
  REQUIRE(added);
  CHECK(added->pool_name == "api");
  CHECK(balancer.current()->find("api")->backends.size() == 2);
  CHECK(balancer.current()->pools[0] == untouched);
  CHECK_FALSE(balancer.add("api", {"http", "127.0.0.1", 8003, 1}, error));
  CHECK_THAT(error, Catch::Contains("already"));
  CHECK_FALSE(balancer.add("nope", {"http", "127.0.0.1", 8004, 1}, error));
  CHECK_THAT(error, Catch::Contains("no pool named 'nope'"));
  CHECK(balancer.find(added->id) == added);
  CHECK(balancer.remove(added->id));
  CHECK(balancer.current()->find("api")->backends.size() == 1);
  CHECK_FALSE(balancer.find(added->id));
}
