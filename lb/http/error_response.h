// The load balancer's own responses: small JSON bodies, `{"error": "..."}`.
#pragma once

#include <cstddef>
#include <string>

namespace lb {

// A complete HTTP/1.1 response with a JSON error body. `close` adds
// `Connection: close`; `extra_headers` (each ending in CRLF) go before the body.
std::string error_response(int status, const std::string& message, bool close,
                           const std::string& extra_headers = "");

// The JSON body of an error response: {"error": message}.
std::string error_body(const std::string& message);

// The head of an HTTP/1.1 error response whose body (error_body()) has
// `body_bytes`; `close` adds `Connection: close`; `extra_headers` (each
// ending in CRLF) go last.
std::string error_head(int status, size_t body_bytes, bool close, const std::string& extra_headers = "");

// The standard reason phrase for the statuses the load balancer itself sends.
const char* reason_phrase(int status);

}  // namespace lb
