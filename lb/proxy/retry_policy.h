// Which failed requests may be sent to another backend (or again to the same
// one on a new connection).
//
// A request that never left us (connection refused, connect timeout) can go
// anywhere. Once sent, it may be replayed only if sending it twice cannot
// change the outcome and we still hold all of it: an idempotent method
// (RFC 9110 9.2.2) without a body, because a streamed body is gone. POST and
// PATCH are never replayed.
#pragma once

#include <chrono>
#include <string_view>

namespace lb {

bool is_idempotent(std::string_view method);

// True when a request that was already (partly) sent may be sent again.
inline bool is_replayable(std::string_view method, bool has_body) { return !has_body && is_idempotent(method); }

// How long one try waits for a first byte: a random point in the last quarter
// of --try-timeout (`unit_random` in [0, 1)). Requests that piled onto a
// backend as it froze then time out spread over a quarter of the timeout, not
// in the same millisecond, so their retries fit the retry budget; the flag's
// value stays the upper bound.
std::chrono::milliseconds jittered_try_timeout(std::chrono::milliseconds try_timeout, double unit_random);

// How long all tries of one request may take together. A --try-timeout shorter
// than --backend-timeout splits it: every try fits within --backend-timeout.
// With the default (each try waits the whole --backend-timeout, as nginx's
// proxy_read_timeout) a try that timed out is still retried, so the tries
// together may take (1 + retries) x --backend-timeout.
std::chrono::milliseconds all_tries_timeout(std::chrono::milliseconds backend_timeout,
                                            std::chrono::milliseconds try_timeout, int retries);

}  // namespace lb
