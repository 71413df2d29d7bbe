// httplib::Client's errors in the words our log lines and /status use.
#pragma once

#include <httplib.h>

#include <string>

namespace common {

// "connection refused", "connect timeout", "TLS handshake failed", ...
std::string describe_client_error(httplib::Error error);

}  // namespace common
