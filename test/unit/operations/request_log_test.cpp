// The live request view's ring: newest first, bounded, and a waiter wakes for
// new records or at stop.
#include <catch2/catch.hpp>

#include <thread>

#include "lb/operations/request_log.h"

using namespace lb;
using namespace std::chrono_literals;

namespace {

RequestRecord record(const std::string& target) {
  RequestRecord r;
  r.target = target;
  r.method = "GET";
  r.status = 200;
  return r;
}

}  // namespace

TEST_CASE("request log keeps the last 200, newest first", "[requests]") {
  RequestLog log;
  CHECK(log.newest_first().empty());
  for (int i = 1; i <= 3; ++i) log.add(record("/" + std::to_string(i)));
  auto three = log.newest_first();
  REQUIRE(three.size() == 3);
  CHECK(three[0].target == "/3");
  CHECK(three[0].sequence == 3);
  CHECK(three[2].target == "/1");

  for (int i = 4; i <= 450; ++i) log.add(record("/" + std::to_string(i)));
  auto all = log.newest_first();
  REQUIRE(all.size() == RequestLog::kCapacity);
  CHECK(all.front().target == "/450");
  CHECK(all.back().target == "/251");
  CHECK(log.last_sequence() == 450);
}

TEST_CASE("request log: waiting for what comes after a sequence", "[requests]") {
  RequestLog log;
  log.add(record("/a"));
  log.add(record("/b"));
  auto after_one = log.wait_after(1, 0ms);
  REQUIRE(after_one.size() == 1);
  CHECK(after_one[0].target == "/b");  // oldest first
  CHECK(log.wait_after(2, 10ms).empty());  // nothing new: the wait times out

  // A reader far behind gets what the ring still holds.
  for (int i = 0; i < 300; ++i) log.add(record("/n"));
  auto behind = log.wait_after(0, 0ms);
  CHECK(behind.size() == RequestLog::kCapacity);
  CHECK(behind.front().sequence == 103);
  CHECK(behind.back().sequence == 302);

  // A waiter wakes when a record is added...
  std::thread adder([&] {
    std::this_thread::sleep_for(20ms);
    log.add(record("/late"));
  });
  auto woke = log.wait_after(302, 10s);
  adder.join();
  REQUIRE(woke.size() == 1);
  CHECK(woke[0].target == "/late");

  // ...and for good at stop().
  std::thread stopper([&] {
    std::this_thread::sleep_for(20ms);
    log.stop();
  });
  auto started = std::chrono::steady_clock::now();
  CHECK(log.wait_after(303, 10s).empty());
  stopper.join();
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  CHECK(log.stopped());
}

TEST_CASE("request log JSON fields", "[requests]") {
  RequestRecord r = record("/x?y=1");
  r.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764616162123));
  r.client = "10.0.0.1";
  r.pool = "api";
  r.backend = "http://127.0.0.1:8001";
  r.duration_ms = 1.5;
  r.request_id = "abc";
  r.trace = "round-robin chose 127.0.0.1:8001";
  nlohmann::json json = request_json(r);
  CHECK(json["time"] == "2025-12-01T19:09:22.123Z");
  CHECK(json["client"] == "10.0.0.1");
  CHECK(json["method"] == "GET");
  CHECK(json["target"] == "/x?y=1");
  CHECK(json["status"] == 200);
  CHECK(json["pool"] == "api");
  CHECK(json["backend"] == "http://127.0.0.1:8001");
  CHECK(json["duration_ms"] == 1.5);
  CHECK(json["request_id"] == "abc");
  CHECK(json["trace"] == "round-robin chose 127.0.0.1:8001");
}

TEST_CASE("request log: only what came after an id", "[requests]") {
  RequestLog log;
  for (int i = 1; i <= 5; ++i) log.add(record("/" + std::to_string(i)));
  auto newer = log.newest_first(3);
  REQUIRE(newer.size() == 2);
  CHECK(newer[0].target == "/5");
  CHECK(newer[1].target == "/4");
  CHECK(log.newest_first(5).empty());
  CHECK(log.newest_first(99).empty());
  CHECK(log.newest_first(0).size() == 5);
  CHECK(request_json(newer[0])["id"] == 5);
}
