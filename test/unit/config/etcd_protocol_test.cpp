// The etcd v3 JSON gateway's messages (lb/config/etcd_protocol.h), built and
// read without an etcd: base64, range/txn/watch bodies, answers as etcd 3.4 writes them.
#include <catch2/catch.hpp>

#include "lb/config/etcd_protocol.h"

using namespace lb;
using json = nlohmann::json;

TEST_CASE("base64 round trip and refusal", "[etcd]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("/cpp-lb/config") == "L2NwcC1sYi9jb25maWc=");
  for (const std::string text : {"", "a", "ab", "abc", "abcd", "{\"backends\": [\"http://127.0.0.1:1\"]}"}) {
    CHECK(base64_decode(base64_encode(text)) == text);
  }
  std::string binary("\0\xff\x10", 3);
  CHECK(base64_decode(base64_encode(binary)) == binary);
  CHECK_THROWS_AS(base64_decode("abc"), std::invalid_argument);
  CHECK_THROWS_AS(base64_decode("a*c="), std::invalid_argument);
}

TEST_CASE("etcd request bodies: range, compare-and-put, watch", "[etcd]") {
  CHECK(etcd_range_request("/k") == json{{"key", "L2s="}});
  const json txn = etcd_cas_put_request("/k", "v", 7);
  CHECK(txn["compare"][0] == json{{"key", "L2s="}, {"result", "EQUAL"}, {"target", "MOD"}, {"mod_revision", "7"}});
  CHECK(txn["success"][0]["request_put"] == json{{"key", "L2s="}, {"value", "dg=="}});
  const json watch = etcd_watch_request("/k", 12);
  CHECK(watch["create_request"]["key"] == "L2s=");
  CHECK(watch["create_request"]["start_revision"] == "12");
}

TEST_CASE("etcd range answers: present, absent, not JSON", "[etcd]") {
  const EtcdRange present = parse_etcd_range(
      R"({"header":{"cluster_id":"1","revision":"9"},"kvs":[{"key":"L2s=","create_revision":"3",)"
      R"("mod_revision":"8","version":"2","value":"e30="}],"count":"1"})");
  CHECK(present.revision == 9);
  REQUIRE(present.value);
  CHECK(present.value->value == "{}");
  CHECK(present.value->mod_revision == 8);

  const EtcdRange absent = parse_etcd_range(R"({"header":{"revision":"4"}})");
  CHECK(absent.revision == 4);
  CHECK_FALSE(absent.value);
  CHECK_THROWS_AS(parse_etcd_range("<html>"), std::invalid_argument);
}

TEST_CASE("etcd txn answers: a false succeeded is left out", "[etcd]") {
  CHECK(parse_etcd_txn_succeeded(R"({"header":{"revision":"5"},"succeeded":true,"responses":[{}]})"));
  CHECK_FALSE(parse_etcd_txn_succeeded(R"({"header":{"revision":"5"}})"));
  CHECK_THROWS_AS(parse_etcd_txn_succeeded(R"({"error":"x"})"), std::invalid_argument);
}

TEST_CASE("etcd watch messages: created, put, delete, compacted, error", "[etcd]") {
  const EtcdWatchMessage created = parse_etcd_watch_message(R"({"result":{"header":{"revision":"5"},"created":true}})");
  CHECK(created.created);
  CHECK(created.revision == 5);
  CHECK(created.events.empty());

  const EtcdWatchMessage changes = parse_etcd_watch_message(
      R"({"result":{"header":{"revision":"7"},"events":[{"kv":{"key":"L2s=","mod_revision":"6","value":"YQ=="}},)"
      R"({"type":"DELETE","kv":{"key":"L2s=","mod_revision":"7"}}]}})");
  REQUIRE(changes.events.size() == 2);
  CHECK_FALSE(changes.events[0].deleted);
  CHECK(changes.events[0].value.value == "a");
  CHECK(changes.events[0].value.mod_revision == 6);
  CHECK(changes.events[1].deleted);
  CHECK(changes.events[1].value.mod_revision == 7);

  const EtcdWatchMessage compacted =
      parse_etcd_watch_message(R"({"result":{"header":{},"canceled":true,"compact_revision":"40"}})");
  CHECK(compacted.canceled);
  CHECK(compacted.compact_revision == 40);

  CHECK_FALSE(parse_etcd_watch_message(R"({"error":{"grpc_code":14,"message":"unavailable"}})").error.empty());
  CHECK_THROWS_AS(parse_etcd_watch_message("not json"), std::invalid_argument);
}
