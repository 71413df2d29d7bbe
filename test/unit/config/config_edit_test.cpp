// Admin backend changes written into a JSON config (lb/config/config_edit.h):
// found by pool and canonical URL wherever the config lists it.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "lb/config/config_edit.h"

using namespace lb;
using json = nlohmann::json;

namespace {

json edited(const std::string& config, const BackendChange& change) {
  const std::optional<std::string> text = edit_config(config, change);
  REQUIRE(text);
  return json::parse(*text);
}

BackendChange change(BackendChange::Kind kind, const std::string& url, int weight = 0, const std::string& pool = "default") {
  return BackendChange{kind, pool, url, weight};
}

}  // namespace

TEST_CASE("config edit: add to the top-level backends, with and without a weight", "[config-edit]") {
  const std::string config = R"({"algorithm": "least-connections", "backends": ["http://127.0.0.1:8001"]})";
  json added = edited(config, change(BackendChange::Kind::Add, "http://127.0.0.1:8002"));
  CHECK(added["backends"] == json::array({"http://127.0.0.1:8001", "http://127.0.0.1:8002"}));
  CHECK(added["algorithm"] == "least-connections");
  added = edited(config, change(BackendChange::Kind::Add, "http://127.0.0.1:8002", 4));
  CHECK(added["backends"][1] == json{{"url", "http://127.0.0.1:8002"}, {"weight", 4}});
  // There already (written another way): nothing to change.
  CHECK_FALSE(edit_config(config, change(BackendChange::Kind::Add, "http://127.0.0.1:8001")));
  // No backends key yet.
  CHECK(edited("{}", change(BackendChange::Kind::Add, "http://h:1"))["backends"] == json::array({"http://h:1"}));
}

TEST_CASE("config edit: remove, drain, enable, weight on bare and object entries", "[config-edit]") {
  const std::string config =
      R"({"backends": ["http://127.0.0.1:8001/", {"url": "http://127.0.0.1:8002", "weight": 2}]})";
  CHECK(edited(config, change(BackendChange::Kind::Remove, "http://127.0.0.1:8001"))["backends"] ==
        json::array({{{"url", "http://127.0.0.1:8002"}, {"weight", 2}}}));
  CHECK_FALSE(edit_config(config, change(BackendChange::Kind::Remove, "http://127.0.0.1:9999")));

  json drained = edited(config, change(BackendChange::Kind::Drain, "http://127.0.0.1:8001"));
  CHECK(drained["backends"][0] == json{{"url", "http://127.0.0.1:8001/"}, {"drain", true}});
  json enabled = edited(drained.dump(), change(BackendChange::Kind::Enable, "http://127.0.0.1:8001"));
  CHECK(enabled["backends"][0]["drain"] == false);  // said outright: a reload must undo another instance's drain

  json weighted = edited(config, change(BackendChange::Kind::Weight, "http://127.0.0.1:8002", 7));
  CHECK(weighted["backends"][1] == json{{"url", "http://127.0.0.1:8002"}, {"weight", 7}});
  CHECK_FALSE(edit_config(weighted.dump(), change(BackendChange::Kind::Weight, "http://127.0.0.1:8002", 7)));
}

TEST_CASE("config edit: pools, POOL=URL entries and refusals", "[config-edit]") {
  const std::string config = R"({"backends": ["api=http://a:1"], "pools": {"web": {"backends": ["http://w:1"]}}})";
  CHECK(edited(config, change(BackendChange::Kind::Add, "http://w:2", 0, "web"))["pools"]["web"]["backends"] ==
        json::array({"http://w:1", "http://w:2"}));
  CHECK(edited(config, change(BackendChange::Kind::Add, "http://a:2", 3, "api"))["backends"][1] ==
        json{{"url", "api=http://a:2"}, {"weight", 3}});
  CHECK(edited(config, change(BackendChange::Kind::Remove, "http://a:1", 0, "api"))["backends"].empty());
  // The same URL in another pool is another backend.
  CHECK_FALSE(edit_config(config, change(BackendChange::Kind::Remove, "http://a:1")));
  CHECK(edited(config, change(BackendChange::Kind::Drain, "http://w:1", 0, "web"))["pools"]["web"]["backends"][0] ==
        json{{"url", "http://w:1"}, {"drain", true}});
  CHECK_THROWS_AS(edit_config("[1]", change(BackendChange::Kind::Add, "http://h:1")), std::invalid_argument);
  CHECK_THROWS_AS(edit_config("{bad", change(BackendChange::Kind::Add, "http://h:1")), std::invalid_argument);
}
