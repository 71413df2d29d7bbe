// The HTTPS requests an ACME client makes (RFC 8555 section 6): GET the
// directory, HEAD a fresh nonce, POST a signed JWS. An interface, so the
// protocol in acme_client.cpp can be tested without a server.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace lb::acme {

struct AcmeResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case

  std::string header(const std::string& lower_name) const {
    auto found = headers.find(lower_name);
    return found == headers.end() ? "" : found->second;
  }
};

// The server could not be reached, or refused: `retry_after` is what the
// server asked for (Retry-After), zero when it did not say.
class AcmeError : public std::runtime_error {
 public:
  explicit AcmeError(const std::string& message, std::chrono::seconds retry_after = std::chrono::seconds(0))
      : std::runtime_error(message), retry_after(retry_after) {}
  std::chrono::seconds retry_after;
};

class AcmeHttp {
 public:
  virtual ~AcmeHttp() = default;
  // Each throws AcmeError when no answer came (refused, timeout, TLS failure).
  virtual AcmeResponse get(const std::string& url) = 0;
  virtual AcmeResponse head(const std::string& url) = 0;
  virtual AcmeResponse post_jose(const std::string& url, const std::string& body) = 0;
};

// On cpp-httplib's client: certificates verified against `ca_file` when given,
// else the system store; 10 s timeouts.
std::unique_ptr<AcmeHttp> make_acme_http(const std::string& ca_file);

// Retry-After (RFC 9110 10.2.3): delay seconds or an HTTP date; zero when absent or unreadable.
std::chrono::seconds parse_retry_after(const std::string& value, std::chrono::system_clock::time_point now);

}  // namespace lb::acme
