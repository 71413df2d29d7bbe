#include "lb/proxy/attempt_judge.h"

namespace lb {

namespace {

using Next = Verdict::Next;

bool counts_against_backend(const AttemptFacts& facts) {
  switch (facts.end) {
    case AttemptEnd::CannotConnect:
    case AttemptEnd::NoResponse:
    case AttemptEnd::BadGateway:
    case AttemptEnd::Timeout:
    case AttemptEnd::InjectedAbort:
    case AttemptEnd::RetryStatus:
      return true;
    case AttemptEnd::Answered:
      return facts.status >= 500;
    case AttemptEnd::BodyTooLarge:  // the client's doing, not the backend's
    case AttemptEnd::BadRequestBody:
    case AttemptEnd::CutShort:
      return false;
  }
  return false;
}

// What the client gets when no backend answered: 504 after a timeout, an
// injected fault's status after an injected abort, else 502.
void reply_unreachable(const AttemptFacts& facts, Verdict& verdict) {
  verdict.close_client = !facts.request_fully_read;
  if (facts.end == AttemptEnd::InjectedAbort) {
    verdict.status = facts.status;
    verdict.message = "injected fault";
  } else if (facts.end == AttemptEnd::RetryStatus) {
    verdict.status = facts.status;
    verdict.message = "backend answered " + std::to_string(facts.status);
  } else if (facts.end == AttemptEnd::Timeout) {
    verdict.status = 504;
    verdict.message = "backend did not respond in time";
  } else {
    verdict.status = 502;
    verdict.message = "backend unavailable: " + facts.detail;
  }
}

Verdict reply(Verdict verdict, int status, std::string message) {
  verdict.next = Next::Reply;
  verdict.status = status;
  verdict.message = std::move(message);
  verdict.close_client = true;  // framing in doubt, or a request half sent
  return verdict;
}

}  // namespace

Verdict judge_attempt(const AttemptFacts& facts) {
  Verdict verdict;
  // A pooled connection the backend had already closed is not the backend's
  // fault: a replayable request goes once more, on a new connection.
  if (facts.end == AttemptEnd::NoResponse && facts.reused_connection && facts.replayable) {
    verdict.next = Next::SameBackendAgain;
    return verdict;
  }
  verdict.backend_failed = counts_against_backend(facts);
  switch (facts.end) {
    case AttemptEnd::Answered:
      return verdict;  // Done
    case AttemptEnd::CutShort:
      verdict.close_client = true;
      return verdict;  // Done: nobody to answer, or the answer broke off
    case AttemptEnd::BodyTooLarge:
      return reply(verdict, 413, "request body larger than " + std::to_string(facts.max_body_bytes) + " bytes");
    case AttemptEnd::BadRequestBody:
      return reply(verdict, 400, "malformed request body: " + facts.detail);
    case AttemptEnd::BadGateway:
      return reply(verdict, 502, "invalid response from backend: " + facts.detail);
    case AttemptEnd::NoResponse:
      // Sent (or partly sent) and unanswered: it may have had its effect.
      if (!facts.replayable) return reply(verdict, 502, "backend closed the connection");
      break;
    case AttemptEnd::CannotConnect:
      verdict.mark_down = true;  // refusing connections: out of rotation now, not at the next health check
      break;
    case AttemptEnd::Timeout:
    case AttemptEnd::RetryStatus:
    case AttemptEnd::InjectedAbort:  // a failure, but no mark-down: the breaker and ejection react
      break;
  }
  // A failure before any response byte: retry elsewhere when allowed.
  reply_unreachable(facts, verdict);
  const bool may_retry = facts.end == AttemptEnd::CannotConnect ||  // never sent: any request may go elsewhere
                         (facts.replayable && !facts.deadline_passed);
  if (!may_retry || facts.attempts_left <= 0) {
    verdict.next = Next::Reply;
    return verdict;
  }
  // The budget is for requests a backend may have received: one never sent
  // (connection refused, injected abort) multiplies nothing.
  verdict.budgeted = facts.end != AttemptEnd::CannotConnect && facts.end != AttemptEnd::InjectedAbort;
  if (verdict.budgeted && !facts.budget_left) {  // a wide outage: fail as without retries rather than multiply it
    verdict.next = Next::Reply;
    verdict.over_budget = true;
    verdict.budgeted = false;
    return verdict;
  }
  verdict.next = Next::AnotherBackend;
  return verdict;
}

}  // namespace lb
