// --request-id-header: the id given to a request that arrives without one.
#pragma once

#include <string>

namespace lb {

// 128 bits from OpenSSL's CSPRNG as 32 lower-case hex digits. Unpredictable,
// so an id cannot be guessed to read or spoil someone else's log lines.
std::string random_request_id();

}  // namespace lb
