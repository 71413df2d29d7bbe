#include "common/http_client_error.h"

namespace common {

std::string describe_client_error(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection: return "connection refused";
    case httplib::Error::ConnectionTimeout: return "connect timeout";
    case httplib::Error::Read: return "timeout or read error";
    case httplib::Error::Write: return "write error";
    case httplib::Error::SSLConnection: return "TLS handshake failed";
    case httplib::Error::SSLServerVerification: return "TLS certificate verification failed";
    default: return httplib::to_string(error);
  }
}

}  // namespace common
