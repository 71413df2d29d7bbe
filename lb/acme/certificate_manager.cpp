#include "lb/acme/certificate_manager.h"

#include <algorithm>

#include "common/log.h"

namespace lb::acme {

namespace {

constexpr std::chrono::seconds kPlaceholderLifetime{7 * 24 * 3600};
constexpr auto kLongestSleep = std::chrono::hours(1);  // a clock that jumps is noticed within this

void log(const std::string& line) { common::log_line("[ACME] " + line); }

// The folder is made and proved writable first: a new account key is saved there.
EcKey account_key_in(const AcmeState& state) {
  state.prepare();
  return state.account_key();
}

}  // namespace

CertificateManager::CertificateManager(AcmeSettings settings, std::unique_ptr<AcmeHttp> http)
    : settings_(std::move(settings)),
      state_(settings_.state_dir),
      account_{settings_.directory_url, settings_.email, account_key_in(state_)},
      http_(std::move(http)) {
  const SystemTime now = std::chrono::system_clock::now();
  for (const std::string& name : settings_.names) {
    Entry entry{{name, {}}, {name, "placeholder", {}, now, ""}};
    try {
      if (std::optional<StoredCertificate> stored = state_.load(name)) {
        const Validity validity = certificate_validity(stored->chain_pem);
        entry.served.pem = std::move(*stored);
        entry.status = {name, "stored", validity.not_after, renewal_time(validity.not_before, validity.not_after), ""};
      }
    } catch (const std::runtime_error& e) {
      log(name + ": stored certificate not used (" + e.what() + "); ordering a new one");
    }
    if (entry.status.source == "placeholder") {
      const PemPair made = self_signed_certificate(name, kPlaceholderLifetime);
      entry.served.pem = {made.key, made.certificate};
      entry.status.not_after = certificate_validity(made.certificate).not_after;
    }
    entries_.push_back(std::move(entry));
  }
}

CertificateManager::~CertificateManager() { stop(); }

void CertificateManager::start(std::function<void()> installed) {
  installed_ = std::move(installed);
  thread_ = std::thread([this] { run(); });
}

void CertificateManager::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<NamedCertificate> CertificateManager::certificates() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<NamedCertificate> served;
  for (const Entry& entry : entries_) served.push_back(entry.served);
  return served;
}

std::vector<CertificateStatus> CertificateManager::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<CertificateStatus> statuses;
  for (const Entry& entry : entries_) statuses.push_back(entry.status);
  return statuses;
}

bool CertificateManager::pause(std::chrono::milliseconds time) {
  std::unique_lock<std::mutex> lock(mutex_);
  return !wake_.wait_for(lock, time, [this] { return stopping_; });
}

// The name due first, one at a time: orders for several names never overlap.
void CertificateManager::run() {
  for (;;) {
    std::string due_name;
    SystemTime due = SystemTime::max();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      for (const Entry& entry : entries_) {
        if (entry.status.next_attempt < due) {
          due = entry.status.next_attempt;
          due_name = entry.status.name;
        }
      }
    }
    const auto wait = due - std::chrono::system_clock::now();
    if (wait > std::chrono::seconds(0)) {
      const auto sleep = std::min<std::chrono::system_clock::duration>(wait, kLongestSleep);
      if (!pause(std::chrono::duration_cast<std::chrono::milliseconds>(sleep) + std::chrono::milliseconds(1))) return;
      continue;
    }
    attempt(due_name);
  }
}

void CertificateManager::attempt(const std::string& name) {
  std::vector<ChallengeType> challenges{ChallengeType::TlsAlpn01};
  if (settings_.http01) challenges.insert(challenges.begin(), ChallengeType::Http01);
  StoredCertificate issued;
  Validity validity;
  std::string error;
  std::chrono::seconds server_asked{0};
  SystemTime retry_at;
  try {
    const EcKey key = EcKey::generate();  // a new key with every certificate
    AcmeClient client(*http_, account_, board_, challenges, [this](std::chrono::milliseconds t) { return pause(t); });
    issued = {key.private_pem(), client.issue(name, key)};
    validity = certificate_validity(issued.chain_pem);
    if (!certificate_matches_key(issued.chain_pem, key)) throw AcmeError("the certificate is not for our key");
  } catch (const AcmeError& e) {
    error = e.what();
    server_asked = e.retry_after;
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (error.empty()) {
    try {
      state_.save(name, issued);
    } catch (const std::runtime_error& e) {
      log(name + ": " + e.what() + "; serving the new certificate from memory");
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    auto entry = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.served.name == name; });
    if (error.empty()) {
      entry->served.pem = issued;
      entry->status = {name, "issued", validity.not_after, renewal_time(validity.not_before, validity.not_after), ""};
      entry->failures = 0;
    } else {
      ++entry->failures;
      entry->status.last_error = error;
      retry_at = std::chrono::system_clock::now() + retry_delay(entry->failures, server_asked);
      entry->status.next_attempt = retry_at;
    }
  }
  if (!error.empty()) {
    log(name + ": " + error + "; keeping the current certificate, retrying at " + utc_text(retry_at));
    return;
  }
  if (installed_) installed_();  // first: the line below tells the world it is served
  log(name + ": certificate issued, valid until " + utc_text(validity.not_after) + ", renewal from " +
      utc_text(renewal_time(validity.not_before, validity.not_after)));
}

}  // namespace lb::acme
