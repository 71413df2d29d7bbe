// The X-LB-Trace explanation of a selection.
#include <catch2/catch.hpp>

#include "lb/operations/decision_trace.h"

using namespace lb;

// Every backend's standing is named, then failures and the final choice.
TEST_CASE("decision trace wording", "[trace]") {
  Balancer balancer({}, {{{}, {{"http", "127.0.0.1", 8001, 2}, {"http", "127.0.0.1", 8002, 1}, {"http", "127.0.0.1", 8003, 1}}}}, {});
  auto topology = balancer.current();
  auto pool = topology->pools[0];
  pool->backends[0]->record_check(true, "200");
  pool->backends[1]->record_check(false, "connection refused");
  pool->backends[2]->record_check(true, "200");
  pool->backends[2]->draining = true;

  DecisionTrace trace;
  SelectionContext selection;
  trace.note_candidates(*pool, selection);
  trace.note_failure(*pool->backends[0], "connection refused");
  trace.note_chosen(*pool->backends[0]);
  CHECK(trace.header_value("round-robin") ==
        "algorithm=round-robin; sticky=off; candidates=http://127.0.0.1:8001 ok(w=2 active=0), "
        "http://127.0.0.1:8002 unhealthy, http://127.0.0.1:8003 draining; "
        "tried=http://127.0.0.1:8001 (connection refused); chosen=http://127.0.0.1:8001");

  // A least-latency pool's trace shows the estimate that decided.
  CHECK(candidate_standing(*pool->backends[0], selection, /*with_latency=*/true) == "ok(w=2 active=0 latency=unknown)");
  const auto sent = selection.now - std::chrono::milliseconds(12);
  pool->backends[0]->latency_end(pool->backends[0]->latency_begin(sent), 12, false, selection.now);
  CHECK(candidate_standing(*pool->backends[0], selection, /*with_latency=*/true) == "ok(w=2 active=0 latency=12ms)");

  selection.avoid.push_back(pool->backends[0].get());
  CHECK(candidate_standing(*pool->backends[0], selection) == "tried");
  trace.reset();
  trace.set_sticky("hit");
  CHECK(trace.header_value("least-connections") == "algorithm=least-connections; sticky=hit; candidates=; chosen=none");

  // With routes and request ids, the trace starts where the request did.
  trace.reset();
  trace.set_request_id("4bf92f3577b34da6a3ce929d0e0e4736");
  trace.set_route("api.example.com/v1", "api");
  CHECK(trace.header_value("round-robin") ==
        "request_id=4bf92f3577b34da6a3ce929d0e0e4736; route=api.example.com/v1; pool=api; algorithm=round-robin; "
        "sticky=off; candidates=; chosen=none");
}

// The same story in words, for the dashboard's request view.
TEST_CASE("decision trace in words", "[trace]") {
  Balancer balancer({}, {{{}, {{"http", "127.0.0.1", 8001, 1}, {"http", "127.0.0.1", 8002, 1}, {"http", "127.0.0.1", 8003, 1}}}}, {});
  auto topology = balancer.current();
  auto pool = topology->pools[0];
  for (auto& backend : pool->backends) backend->record_check(true, "200");
  pool->backends[2]->record_check(false, "connection refused");
  Backend& first = *pool->backends[0];
  Backend& second = *pool->backends[1];

  DecisionTrace trace;
  SelectionContext selection;
  trace.note_candidates(*pool, selection);
  trace.note_chosen(second);
  CHECK(trace.in_words("round-robin") == "round-robin chose 127.0.0.1:8002; skipped 127.0.0.1:8003 (unhealthy)");

  // A failure then a retry that answered; a delay is told where it happened.
  trace.note_chosen(first);
  trace.note_delay(first, std::chrono::milliseconds(500));
  trace.note_failure(first, "injected fault (503)");
  trace.note_chosen(second);
  CHECK(trace.in_words("round-robin") ==
        "round-robin chose 127.0.0.1:8001 (injected delay 500 ms): injected fault (503), retrying; "
        "round-robin chose 127.0.0.1:8002; skipped 127.0.0.1:8003 (unhealthy)");
  CHECK(trace.tried() == "http://127.0.0.1:8001 (injected fault (503))");

  // The last try failed too: no "retrying" after it.
  trace.note_failure(second, "timeout");
  CHECK(trace.in_words("least-connections") ==
        "least-connections chose 127.0.0.1:8001 (injected delay 500 ms): injected fault (503), retrying; "
        "least-connections chose 127.0.0.1:8002: timeout; skipped 127.0.0.1:8003 (unhealthy)");

  // A slowed answer is told where it happened too.
  trace.reset();
  trace.note_chosen(first);
  trace.note_slow_answer(first, std::chrono::milliseconds(160));
  CHECK(trace.in_words("least-latency") ==
        "least-latency chose 127.0.0.1:8001 (answer held 160 ms by injected slow_factor)");

  trace.reset();
  trace.set_route("/api", "api");
  trace.set_sticky("hit");
  trace.note_chosen(first);
  CHECK(trace.in_words("round-robin") == "route /api → pool api; sticky cookie hit; the sticky cookie chose 127.0.0.1:8001");
  trace.reset();
  CHECK(trace.in_words("round-robin") == "no backend available");
}

// Least latency names the estimate that decided, of the chosen backend and of
// those it passed over (ms x requests in flight); a hedge is told too.
TEST_CASE("decision trace in words for least latency and a hedge", "[trace]") {
  PoolSpec spec{{}, {{"http", "127.0.0.1", 8001, 1}, {"http", "127.0.0.1", 8002, 1}, {"http", "127.0.0.1", 8003, 1}}};
  spec.settings.policy.algorithm = "least-latency";
  Balancer balancer({}, {spec}, {});
  auto pool = balancer.current()->pools[0];
  for (auto& backend : pool->backends) backend->record_check(true, "200");
  pool->backends[2]->record_check(false, "connection refused");
  SelectionContext selection;
  const auto answered = [&](Backend& backend, long ms) {
    backend.latency_end(backend.latency_begin(selection.now - std::chrono::milliseconds(ms)), ms, false, selection.now);
  };
  answered(*pool->backends[0], 12);
  answered(*pool->backends[1], 95);
  const BackendPlace busy = BackendPlace::take(pool->backends[0]);

  DecisionTrace trace;
  trace.note_candidates(*pool, selection);
  trace.note_chosen(*pool->backends[0]);
  CHECK(trace.in_words("least-latency") ==
        "least-latency chose 127.0.0.1:8001 (12 ms x 1) over 127.0.0.1:8002 (95 ms x 0); "
        "skipped 127.0.0.1:8003 (unhealthy)");

  trace.note_hedge(*pool->backends[1], std::chrono::milliseconds(50), /*won=*/true);
  trace.note_chosen(*pool->backends[1]);
  CHECK_THAT(trace.in_words("least-latency"), Catch::Contains("hedged to 127.0.0.1:8002 after 50 ms, won"));
  CHECK_THAT(trace.header_value("least-latency"), Catch::Contains("hedged=http://127.0.0.1:8002 (after 50 ms, won)"));
}
