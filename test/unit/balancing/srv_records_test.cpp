// DNS SRV discovery's pure part (lb/balancing/srv_records.h): the srv URL,
// records -> backend specs, and the diff against a pool's discovered set.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "lb/balancing/srv_records.h"

using namespace lb;

namespace {

const SrvSource kSource{"http", "_http._tcp.web.test"};

std::vector<BackendSpec> specs_of(const std::vector<SrvRecord>& records, std::vector<std::string>& skipped,
                                  const std::string& unresolvable = "") {
  return backends_from_srv(kSource, records, [&](const std::string& target) { return target != unresolvable; },
                           skipped);
}

std::vector<BackendSpec> specs_of(const std::vector<SrvRecord>& records) {
  std::vector<std::string> skipped;
  return specs_of(records, skipped);
}

BackendSpec spec(const std::string& host, uint16_t port, int weight) {
  BackendSpec s;
  s.scheme = "http";
  s.host = host;
  s.port = port;
  s.weight = weight;
  return s;
}

}  // namespace

TEST_CASE("srv+http:// and srv+https:// name an SRV source", "[srv]") {
  CHECK(is_srv_url("srv+http://x"));
  CHECK_FALSE(is_srv_url("http://x:1"));
  SrvSource source = parse_srv_source("srv+http://_HTTP._tcp.Web.Example.");
  CHECK(source.scheme == "http");
  CHECK(source.name == "_http._tcp.web.example");
  CHECK(source.url() == "srv+http://_http._tcp.web.example");
  CHECK(parse_srv_source("srv+https://_https._tcp.api.example/").scheme == "https");
}

TEST_CASE("a malformed srv URL is refused with a reason", "[srv]") {
  auto reason = [](const std::string& text) {
    try {
      parse_srv_source(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK_THAT(reason("srv+ftp://_ftp._tcp.x"), Catch::Contains("unsupported scheme 'srv+ftp'"));
  CHECK_THAT(reason("srv+http://"), Catch::Contains("no SRV name"));
  CHECK_THAT(reason("srv+http://_http._tcp.x:8080"), Catch::Contains("no port"));
  CHECK_THAT(reason("srv+http://_http._tcp.x/path"), Catch::Contains("path"));
  CHECK_THAT(reason("srv+http://_http._tcp.x,weight=3"), Catch::Contains("no options"));
  CHECK_THAT(reason("srv+http://bad name"), Catch::Contains("invalid SRV name"));
  CHECK_THAT(reason("srv+http:/x"), Catch::Contains("must look like"));
}

TEST_CASE("SRV weights map to 1..1000", "[srv]") {
  CHECK(weight_from_srv(0) == 1);
  CHECK(weight_from_srv(1) == 1);
  CHECK(weight_from_srv(10) == 10);
  CHECK(weight_from_srv(1000) == 1000);
  CHECK(weight_from_srv(65535) == 1000);
}

TEST_CASE("records become backends of the source's scheme, marked with it", "[srv]") {
  auto specs = specs_of({{0, 10, 8001, "web1.test"}, {0, 0, 8002, "web2.test"}});
  REQUIRE(specs.size() == 2);
  CHECK(specs[0].url() == "http://web1.test:8001");
  CHECK(specs[0].weight == 10);
  CHECK(specs[0].discovered_by == "srv+http://_http._tcp.web.test");
  CHECK(specs[1].weight == 1);
  std::vector<std::string> skipped;
  auto https = backends_from_srv({"https", "_https._tcp.x"}, {{0, 1, 443, "a.x"}},
                                 [](const std::string&) { return true; }, skipped);
  CHECK(https[0].url() == "https://a.x:443");
}

TEST_CASE("only the lowest priority value in use counts", "[srv]") {
  auto specs = specs_of({{20, 1, 8003, "backup.test"}, {10, 1, 8001, "web1.test"}, {10, 1, 8002, "web2.test"}});
  REQUIRE(specs.size() == 2);
  CHECK(specs[0].host == "web1.test");
  CHECK(specs[1].host == "web2.test");
  SECTION("when the preferred ones are unusable, the next priority is used") {
    std::vector<std::string> skipped;
    auto next = specs_of({{10, 1, 0, "web1.test"}, {10, 1, 8002, "gone.test"}, {20, 1, 8003, "backup.test"}}, skipped,
                         "gone.test");
    REQUIRE(next.size() == 1);
    CHECK(next[0].host == "backup.test");
    CHECK(skipped.size() == 2);
  }
}

TEST_CASE("records pointing nowhere are skipped, and duplicates count once", "[srv]") {
  std::vector<std::string> skipped;
  auto specs = specs_of({{0, 5, 8001, ""},
                         {0, 5, 0, "web1.test"},
                         {0, 5, 8002, "nowhere.test"},
                         {0, 5, 8003, "web3.test"},
                         {0, 9, 8003, "web3.test"}},
                        skipped, "nowhere.test");
  REQUIRE(specs.size() == 1);
  CHECK(specs[0].url() == "http://web3.test:8003");
  CHECK(specs[0].weight == 5);  // the first of the two
  REQUIRE(skipped.size() == 3);
  CHECK_THAT(skipped[0], Catch::Contains("target '.'"));
  CHECK_THAT(skipped[1], Catch::Contains("port 0"));
  CHECK_THAT(skipped[2], Catch::Contains("nowhere.test:8002 - target does not resolve"));
  CHECK(specs_of({}).empty());
}

TEST_CASE("the diff says what to add, remove and reweight", "[srv]") {
  const std::vector<BackendSpec> current{spec("a", 1, 1), spec("b", 2, 5), spec("c", 3, 1)};
  const std::vector<BackendSpec> wanted{spec("a", 1, 1), spec("b", 2, 7), spec("d", 4, 1)};
  DiscoveredChange change = diff_discovered(current, wanted);
  REQUIRE(change.added.size() == 1);
  CHECK(change.added[0].host == "d");
  REQUIRE(change.removed.size() == 1);
  CHECK(change.removed[0] == "http://c:3");
  REQUIRE(change.reweighted.size() == 1);
  CHECK(change.reweighted[0].weight == 7);
  CHECK(diff_discovered(current, current).empty());
}
