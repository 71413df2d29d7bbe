// The answers to ACME challenges while an order waits for them: read by the
// --redirect-http listener (HTTP-01, RFC 8555 8.3) and by the TLS listener's
// handshake (TLS-ALPN-01, RFC 8737); written by the ACME client's thread.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "lb/acme/acme_crypto.h"

namespace lb::acme {

class ChallengeBoard {
 public:
  void post_http01(const std::string& token, const std::string& key_authorization);
  void post_tls_alpn01(const std::string& name, PemPair certificate);
  void take_down(const std::string& token_or_name);

  // The key authorization for a token under /.well-known/acme-challenge/.
  std::optional<std::string> http01(const std::string& token) const;
  // The acmeIdentifier certificate for a name during an "acme-tls/1" handshake.
  std::optional<PemPair> tls_alpn01(const std::string& name) const;

 private:
  mutable std::mutex mutex_;  // guards both maps
  std::map<std::string, std::string> http01_;  // token → key authorization
  std::map<std::string, PemPair> tls_alpn01_;  // name → its challenge certificate
};

}  // namespace lb::acme
