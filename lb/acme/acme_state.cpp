#include "lb/acme/acme_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace lb::acme {

namespace {

std::string why() { return std::strerror(errno); }

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    throw std::runtime_error(path + ": " + why());
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

void write_private_file(const std::string& path, const std::string& content) {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error(path + ": cannot write: " + why());
  bool written = ::fchmod(fd, 0600) == 0;  // a temporary left by a crash may have other bits
  for (size_t done = 0; written && done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    written = n > 0;
    if (written) done += static_cast<size_t>(n);
  }
  written = written && ::fsync(fd) == 0;
  const std::string failure = written ? "" : why();
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = written ? why() : failure;
    ::unlink(temporary.c_str());
    throw std::runtime_error(path + ": cannot write: " + reason);
  }
}

void AcmeState::prepare() const {
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    throw std::runtime_error("--acme-state " + dir_ + ": " + why());
  }
  // Proved by writing, not by the mode bits: root, read-only mounts and ACLs all answer here.
  const std::string probe = path(".write-test");
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("--acme-state " + dir_ + ": not writable: " + why());
  ::close(fd);
  ::unlink(probe.c_str());
}

EcKey AcmeState::account_key() const {
  const std::string file = path("account.key");
  if (std::optional<std::string> pem = read_file(file)) {
    try {
      return EcKey::from_pem(*pem);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(file + ": " + e.what());
    }
  }
  EcKey made = EcKey::generate();
  write_private_file(file, made.private_pem());
  return made;
}

std::optional<StoredCertificate> AcmeState::load(const std::string& name) const {
  const std::string file = path(name + ".pem");
  const std::optional<std::string> text = read_file(file);
  if (!text) return std::nullopt;
  const auto chain_start = text->find("-----BEGIN CERTIFICATE-----");
  if (chain_start == std::string::npos) throw std::runtime_error(file + ": no certificate");
  StoredCertificate stored{text->substr(0, chain_start), text->substr(chain_start)};
  try {
    if (!certificate_matches_key(stored.chain_pem, EcKey::from_pem(stored.key_pem))) {
      throw std::runtime_error("the key does not match the certificate");
    }
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(file + ": " + e.what());
  }
  return stored;
}

void AcmeState::save(const std::string& name, const StoredCertificate& certificate) const {
  write_private_file(path(name + ".pem"), certificate.key_pem + certificate.chain_pem);
}

}  // namespace lb::acme
