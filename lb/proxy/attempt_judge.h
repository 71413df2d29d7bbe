// How one attempt to forward a request ended, and what follows from it: the
// one place that says whether a backend failed, whether it leaves rotation,
// whether the request goes elsewhere, and what the client gets otherwise.
// A pure function, so every rule is a row in a table test
// (test/unit/proxy/attempt_judge_test.cpp); the exchange calls it once per
// attempt (lb/proxy/exchange.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace lb {

// How an attempt on one backend ended.
enum class AttemptEnd {
  Answered,        // the response went to the client (any status)
  CannotConnect,   // nothing was sent: refused, unreachable, TLS failed
  NoResponse,      // the request (or part of it) went out; the connection died before any response byte
  BadGateway,      // the backend sent garbage, a truncated head, or a 101 nobody asked for
  Timeout,         // no response byte in time
  InjectedAbort,   // an injected fault (admin API) answered instead of the backend
  BodyTooLarge,    // the client's body passed --max-body-size
  BadRequestBody,  // the client's body framing was invalid
  CutShort,        // the client left, or the response broke off after it began: nothing more can be sent
  RetryStatus,     // an answer with a --retry-on-status code, dropped unrelayed so another backend may answer
};

struct AttemptFacts {
  AttemptEnd end = AttemptEnd::Answered;
  int status = 0;            // Answered: the status sent; InjectedAbort: the fault's status
  std::string detail;        // why, in words ("connection refused", "timeout", the parser's complaint)
  bool reused_connection = false;  // the attempt ran on a pooled keep-alive connection
  bool replayable = false;   // is_replayable(): the request may be sent twice
  bool deadline_passed = false;    // all tries' time (all_tries_timeout()) is up
  int attempts_left = 0;     // tries still allowed after this one (--retries)
  bool budget_left = true;   // the retry budget has room for one more retry
  bool request_fully_read = true;  // the client's request body is all read (else the reply closes)
  uint64_t max_body_bytes = 0;     // --max-body-size, for BodyTooLarge's message

  static AttemptFacts ended(AttemptEnd end, std::string detail) {
    AttemptFacts facts;
    facts.end = end;
    facts.detail = std::move(detail);
    return facts;
  }
};

struct Verdict {
  enum class Next {
    Done,             // the client has its answer (or is gone): the exchange ends
    SameBackendAgain, // a pooled connection the backend had closed: once more, on a new one
    AnotherBackend,   // retry elsewhere
    Reply,            // answer the client ourselves with `status` and `message`
  };
  Next next = Next::Done;
  bool backend_failed = false;  // counts against the backend: breaker, ejection, failures_total
  bool mark_down = false;       // passive health: out of rotation until a health check passes
  bool budgeted = false;        // AnotherBackend: the retry is paid from the retry budget
  bool over_budget = false;     // Reply because the budget is spent (counted in /metrics)
  bool close_client = false;    // Done/Reply: the client connection must close after this
  // Reply: the answer; AnotherBackend: the answer if the retry cannot happen
  // after all (no backend left, or the budget spent meanwhile).
  int status = 0;
  std::string message;
};

Verdict judge_attempt(const AttemptFacts& facts);

}  // namespace lb
