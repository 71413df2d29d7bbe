// --redirect-http PORT: a plain-HTTP listener that sends every request to the
// HTTPS listener with 308 Permanent Redirect (308 keeps method and body),
// except, with ACME, the answers to HTTP-01 challenges (RFC 8555 8.3).
#pragma once

#include <string>

#include "lb/acme/challenge_board.h"
#include "lb/operations/background_http_server.h"

namespace lb {

class RedirectServer {
 public:
  // `challenges`: nullptr without ACME.
  RedirectServer(int https_port, const acme::ChallengeBoard* challenges);
  int start(const std::string& address, int port, std::string& error, int inherited_fd = -1) {
    return http_.start(address, port, error, inherited_fd);
  }
  BackgroundHttpServer& listener() { return http_; }

 private:
  BackgroundHttpServer http_;
};

// The https:// URL for a request that came in with `host_header` and `target`.
std::string https_location(const std::string& host_header, const std::string& target, int https_port);

}  // namespace lb
