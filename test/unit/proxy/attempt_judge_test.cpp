// Every rule of judge_attempt() as a row: what happened, then what follows.
#include "lb/proxy/attempt_judge.h"

#include <catch2/catch.hpp>

namespace lb {
namespace {

using Next = Verdict::Next;
constexpr bool kReplayable = true;
constexpr bool kSent = false;  // not replayable: a POST, or a body already streamed

struct Row {
  const char* what;
  AttemptEnd end;
  bool replayable;
  int status;           // Answered / InjectedAbort / RetryStatus
  bool reused;          // on a pooled connection
  bool deadline_passed;
  int attempts_left;
  bool budget_left;
  // expected
  Next next;
  bool failed;
  bool mark_down;
  bool budgeted;
  int reply_status;     // Reply (and AnotherBackend's fallback)
  bool close;
};

const Row kRows[] = {
    // what                                   end                         replay       st   reuse  late   left budget  next                    failed mark  budg  reply close
    {"2xx answer",                            AttemptEnd::Answered,       kReplayable, 200, false, false, 1,   true,   Next::Done,             false, false, false, 0,   false},
    {"4xx answer is the backend's to give",   AttemptEnd::Answered,       kSent,       404, false, false, 1,   true,   Next::Done,             false, false, false, 0,   false},
    {"5xx answer goes to the client, counts", AttemptEnd::Answered,       kReplayable, 503, false, false, 1,   true,   Next::Done,             true,  false, false, 0,   false},
    {"client gone or response cut short",   AttemptEnd::CutShort,       kReplayable, 0,   false, false, 1,   true,   Next::Done,             false, false, false, 0,   true},
    {"body too large",                        AttemptEnd::BodyTooLarge,   kSent,       0,   false, false, 1,   true,   Next::Reply,            false, false, false, 413, true},
    {"bad request body",                      AttemptEnd::BadRequestBody, kSent,       0,   false, false, 1,   true,   Next::Reply,            false, false, false, 400, true},
    {"garbage from the backend",              AttemptEnd::BadGateway,     kReplayable, 0,   false, false, 1,   true,   Next::Reply,            true,  false, false, 502, true},
    {"refused: retried, marked down",         AttemptEnd::CannotConnect,  kSent,       0,   false, false, 1,   true,   Next::AnotherBackend,   true,  true,  false, 502, false},
    {"refused needs no budget",               AttemptEnd::CannotConnect,  kReplayable, 0,   false, false, 1,   false,  Next::AnotherBackend,   true,  true,  false, 502, false},
    {"refused, no tries left",                AttemptEnd::CannotConnect,  kReplayable, 0,   false, false, 0,   true,   Next::Reply,            true,  true,  false, 502, false},
    {"stale pooled connection",               AttemptEnd::NoResponse,     kReplayable, 0,   true,  false, 0,   false,  Next::SameBackendAgain, false, false, false, 0,   false},
    {"stale pooled connection, POST",         AttemptEnd::NoResponse,     kSent,       0,   true,  false, 1,   true,   Next::Reply,            true,  false, false, 502, true},
    {"closed unanswered, GET",                AttemptEnd::NoResponse,     kReplayable, 0,   false, false, 1,   true,   Next::AnotherBackend,   true,  false, true,  502, false},
    {"closed unanswered, POST",               AttemptEnd::NoResponse,     kSent,       0,   false, false, 1,   true,   Next::Reply,            true,  false, false, 502, true},
    {"timeout, GET",                          AttemptEnd::Timeout,        kReplayable, 0,   false, false, 1,   true,   Next::AnotherBackend,   true,  false, true,  504, false},
    {"timeout, POST",                         AttemptEnd::Timeout,        kSent,       0,   false, false, 1,   true,   Next::Reply,            true,  false, false, 504, false},
    {"timeout past the deadline",             AttemptEnd::Timeout,        kReplayable, 0,   false, true,  1,   true,   Next::Reply,            true,  false, false, 504, false},
    {"timeout, budget spent",                 AttemptEnd::Timeout,        kReplayable, 0,   false, false, 1,   false,  Next::Reply,            true,  false, false, 504, false},
    {"timeout, no tries left",                AttemptEnd::Timeout,        kReplayable, 0,   false, false, 0,   true,   Next::Reply,            true,  false, false, 504, false},
    {"injected abort, GET: free retry",       AttemptEnd::InjectedAbort,  kReplayable, 418, false, false, 1,   false,  Next::AnotherBackend,   true,  false, false, 418, false},
    {"injected abort, POST",                  AttemptEnd::InjectedAbort,  kSent,       418, false, false, 1,   true,   Next::Reply,            true,  false, false, 418, false},
    {"--retry-on-status answer, GET",         AttemptEnd::RetryStatus,    kReplayable, 503, false, false, 1,   true,   Next::AnotherBackend,   true,  false, true,  503, false},
    {"--retry-on-status answer, budget spent", AttemptEnd::RetryStatus,   kReplayable, 503, false, false, 1,   false,  Next::Reply,            true,  false, false, 503, false},
};

}  // namespace

TEST_CASE("judge_attempt: every row of the table", "[judge]") {
  for (const Row& row : kRows) {
    INFO(row.what);
    AttemptFacts facts;
    facts.end = row.end;
    facts.status = row.status;
    facts.detail = "why";
    facts.reused_connection = row.reused;
    facts.replayable = row.replayable;
    facts.deadline_passed = row.deadline_passed;
    facts.attempts_left = row.attempts_left;
    facts.budget_left = row.budget_left;
    facts.max_body_bytes = 10;
    const Verdict verdict = judge_attempt(facts);
    CHECK(verdict.next == row.next);
    CHECK(verdict.backend_failed == row.failed);
    CHECK(verdict.mark_down == row.mark_down);
    CHECK(verdict.budgeted == row.budgeted);
    if (row.next == Next::Reply || row.next == Next::AnotherBackend) CHECK(verdict.status == row.reply_status);
    if (row.next != Next::AnotherBackend && row.next != Next::SameBackendAgain) {
      CHECK(verdict.close_client == row.close);
    }
  }
}

TEST_CASE("judge_attempt: the budget refuses only retries it pays for", "[judge]") {
  AttemptFacts facts;
  facts.end = AttemptEnd::NoResponse;
  facts.replayable = true;
  facts.attempts_left = 2;
  facts.budget_left = false;
  Verdict verdict = judge_attempt(facts);
  CHECK(verdict.next == Next::Reply);
  CHECK(verdict.over_budget);
  CHECK_FALSE(verdict.budgeted);
  facts.end = AttemptEnd::CannotConnect;
  verdict = judge_attempt(facts);
  CHECK(verdict.next == Next::AnotherBackend);
  CHECK_FALSE(verdict.over_budget);
}

TEST_CASE("judge_attempt: a reply closes the client while its body is unread", "[judge]") {
  AttemptFacts facts;
  facts.end = AttemptEnd::Timeout;
  facts.replayable = false;
  facts.request_fully_read = false;
  CHECK(judge_attempt(facts).close_client);
  facts.request_fully_read = true;
  CHECK_FALSE(judge_attempt(facts).close_client);
}

TEST_CASE("judge_attempt: the messages say why", "[judge]") {
  AttemptFacts facts;
  facts.end = AttemptEnd::BodyTooLarge;
  facts.max_body_bytes = 1024;
  CHECK(judge_attempt(facts).message == "request body larger than 1024 bytes");
  facts.end = AttemptEnd::CannotConnect;
  facts.detail = "connection refused";
  CHECK(judge_attempt(facts).message == "backend unavailable: connection refused");
  facts.end = AttemptEnd::InjectedAbort;
  facts.status = 503;
  CHECK(judge_attempt(facts).message == "injected fault");
  CHECK(judge_attempt(facts).status == 503);
}

}  // namespace lb
