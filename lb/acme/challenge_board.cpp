#include "lb/acme/challenge_board.h"

namespace lb::acme {

void ChallengeBoard::post_http01(const std::string& token, const std::string& key_authorization) {
  std::lock_guard<std::mutex> lock(mutex_);
  http01_[token] = key_authorization;
}

void ChallengeBoard::post_tls_alpn01(const std::string& name, PemPair certificate) {
  std::lock_guard<std::mutex> lock(mutex_);
  tls_alpn01_[name] = std::move(certificate);
}

void ChallengeBoard::take_down(const std::string& token_or_name) {
  std::lock_guard<std::mutex> lock(mutex_);
  http01_.erase(token_or_name);
  tls_alpn01_.erase(token_or_name);
}

std::optional<std::string> ChallengeBoard::http01(const std::string& token) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = http01_.find(token);
  if (found == http01_.end()) return std::nullopt;
  return found->second;
}

std::optional<PemPair> ChallengeBoard::tls_alpn01(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = tls_alpn01_.find(name);
  if (found == tls_alpn01_.end()) return std::nullopt;
  return found->second;
}

}  // namespace lb::acme
