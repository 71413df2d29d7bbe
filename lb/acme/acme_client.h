// One certificate from an ACME server (RFC 8555), step by step: the
// directory, a nonce, the account (found or created by its key), an order for
// one name, each authorization proved with HTTP-01 or TLS-ALPN-01 through the
// ChallengeBoard, the CSR sent to finalize, the chain downloaded.
//
// Made for one attempt and then dropped: every attempt starts from the
// directory, so a server that restarted or forgot the account is no harm.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lb/acme/acme_crypto.h"
#include "lb/acme/acme_http.h"
#include "lb/acme/challenge_board.h"

namespace lb::acme {

enum class ChallengeType { Http01, TlsAlpn01 };
const char* challenge_name(ChallengeType type);  // "http-01", "tls-alpn-01"

struct AcmeAccount {
  std::string directory_url;
  std::string email;  // "" for none
  EcKey key;
};

// Waits up to the given time; false when the attempt must stop (shutdown).
using Pause = std::function<bool(std::chrono::milliseconds)>;

class AcmeClient {
 public:
  // `challenges`: the types we can answer, preferred first.
  AcmeClient(AcmeHttp& http, const AcmeAccount& account, ChallengeBoard& board,
             std::vector<ChallengeType> challenges, Pause pause);

  // The PEM chain for `name`, issued for `certificate_key`. Throws AcmeError
  // at the first step that fails, with the server's problem and Retry-After.
  std::string issue(const std::string& name, const EcKey& certificate_key);

 private:
  void read_directory();
  void find_or_create_account();
  // POST a JWS (POST-as-GET for an empty payload); a badNonce is retried with
  // the nonce that came with it (RFC 8555 6.5).
  AcmeResponse post(const std::string& url, const std::string& payload);
  nlohmann::json post_json(const std::string& url, const std::string& payload);
  void prove(const std::string& authorization_url);
  // POST-as-GET `url` until its "status" is none of `waiting`, honouring Retry-After.
  nlohmann::json wait_while(const std::string& url, const std::vector<std::string>& waiting, const std::string& what);

  AcmeHttp& http_;
  const AcmeAccount& account_;
  ChallengeBoard& board_;
  std::vector<ChallengeType> challenges_;
  Pause pause_;
  nlohmann::json directory_;
  std::string nonce_;
  std::string kid_;  // the account's URL once known
};

}  // namespace lb::acme
