// Which failed requests may be sent to another backend (or again to the same
// one on a new connection).
//
// A request that never left us (connection refused, connect timeout) can go
// anywhere. Once sent, it may be replayed only if sending it twice cannot
// change the outcome and we still hold all of it: an idempotent method
// (RFC 9110 9.2.2) without a body, because a streamed body is gone. POST and
// PATCH are never replayed.
#pragma once

#include <string_view>

namespace lb {

bool is_idempotent(std::string_view method);

// True when a request that was already (partly) sent may be sent again.
inline bool is_replayable(std::string_view method, bool has_body) { return !has_body && is_idempotent(method); }

}  // namespace lb
