// Automatic HTTPS: one certificate per --acme-domain name, kept valid by a
// background thread. At start each name gets its stored certificate, or a
// self-signed placeholder until the first issuance; the thread then orders a
// certificate for each placeholder and renews each one when a third of its
// lifetime is left. A failure is logged, and retried later (renewal_schedule.h);
// the certificate in use stays. Each new certificate is saved, then
// `installed` runs so the TLS listener swaps it in (lb/config/running_config.h).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lb/acme/acme_client.h"
#include "lb/acme/acme_settings.h"
#include "lb/acme/acme_state.h"
#include "lb/acme/renewal_schedule.h"

namespace lb::acme {

// What the TLS listener serves for a name now.
struct NamedCertificate {
  std::string name;
  StoredCertificate pem;
};

struct CertificateStatus {
  std::string name;
  std::string source;  // "placeholder" (self-signed, before the first issuance), "stored" or "issued"
  SystemTime not_after;
  SystemTime next_attempt;  // renewal time, or the retry after a failure
  std::string last_error;   // "" since the last success
};

class CertificateManager {
 public:
  // Prepares the state folder, loads the account key and the stored
  // certificates, makes placeholders. Throws std::runtime_error (one line)
  // when the folder or the account key cannot be used.
  CertificateManager(AcmeSettings settings, std::unique_ptr<AcmeHttp> http);
  ~CertificateManager();
  CertificateManager(const CertificateManager&) = delete;
  CertificateManager& operator=(const CertificateManager&) = delete;

  void start(std::function<void()> installed);
  void stop();

  std::vector<NamedCertificate> certificates() const;
  std::vector<CertificateStatus> status() const;
  const ChallengeBoard& board() const { return board_; }

 private:
  struct Entry {
    NamedCertificate served;
    CertificateStatus status;
    int failures = 0;  // in a row
  };

  void run();
  void attempt(const std::string& name);
  bool pause(std::chrono::milliseconds time);  // false once stopping

  const AcmeSettings settings_;
  const AcmeState state_;
  const AcmeAccount account_;
  std::unique_ptr<AcmeHttp> http_;
  ChallengeBoard board_;
  std::function<void()> installed_;

  mutable std::mutex mutex_;  // guards entries_ and stopping_
  std::condition_variable wake_;
  std::vector<Entry> entries_;  // in --acme-domain order
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lb::acme
