// --acme-state DIR: what survives a restart. `account.key` (the account's
// key: the server finds the account by it) and one `NAME.pem` per name (its
// private key, then its certificate chain), each written whole to a 0600
// file and renamed into place, so a crash leaves the old file or the new one.
#pragma once

#include <optional>
#include <string>

#include "lb/acme/acme_crypto.h"

namespace lb::acme {

struct StoredCertificate {
  std::string key_pem;
  std::string chain_pem;
};

class AcmeState {
 public:
  explicit AcmeState(std::string dir) : dir_(std::move(dir)) {}

  // Creates the folder (0700) when missing and proves it can be written.
  // Throws std::runtime_error "--acme-state DIR: <why>".
  void prepare() const;
  // The stored account key, or a new one, saved first. Throws as prepare() does.
  EcKey account_key() const;
  // NAME.pem when present and usable (a key that matches its certificate);
  // nullopt when absent. Throws std::runtime_error naming the file when unusable.
  std::optional<StoredCertificate> load(const std::string& name) const;
  // Throws std::runtime_error naming the file when it cannot be written.
  void save(const std::string& name, const StoredCertificate& certificate) const;

  const std::string& dir() const { return dir_; }

 private:
  std::string path(const std::string& file) const { return dir_ + "/" + file; }

  std::string dir_;
};

// Writes `content` to a 0600 temporary file beside `path`, syncs it, and
// renames it over `path`. Throws std::runtime_error naming `path`.
void write_private_file(const std::string& path, const std::string& content);

}  // namespace lb::acme
