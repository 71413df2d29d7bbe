#include "lb/protection/password_file.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace lb {

namespace {

bool is_crypt64(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '/';
}

bool all_crypt64(std::string_view text) {
  for (char c : text) {
    if (!is_crypt64(c)) return false;
  }
  return true;
}

// "$2y$10$" + 22 salt + 31 hash characters.
std::string bcrypt_problem(std::string_view hash) {
  if (hash.size() != 60 || hash[6] != '$' || hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9' ||
      !all_crypt64(hash.substr(7))) {
    return "malformed bcrypt hash";
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  return cost < 4 || cost > 31 ? "bcrypt cost must be 04-31" : "";
}

// "$5$" or "$6$", "rounds=N$" perhaps, a salt of 1-16, "$", 43 or 86 characters.
std::string sha_crypt_problem(std::string_view hash) {
  std::string_view rest = hash.substr(3);
  if (rest.rfind("rounds=", 0) == 0) {
    const size_t dollar = rest.find('$');
    const std::string_view digits = rest.substr(7, dollar == std::string_view::npos ? 0 : dollar - 7);
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string_view::npos) {
      return "malformed SHA-crypt rounds";
    }
    rest.remove_prefix(dollar + 1);
  }
  const size_t dollar = rest.find('$');
  const size_t digest = hash[1] == '5' ? 43 : 86;
  if (dollar == std::string_view::npos || dollar == 0 || dollar > 16 || !all_crypt64(rest.substr(0, dollar)) ||
      rest.size() - dollar - 1 != digest || !all_crypt64(rest.substr(dollar + 1))) {
    return "malformed SHA-crypt hash";
  }
  return "";
}

}  // namespace

std::string password_hash_problem(std::string_view hash) {
  if (hash.rfind("$2y$", 0) == 0 || hash.rfind("$2b$", 0) == 0) return bcrypt_problem(hash);
  if (hash.rfind("$5$", 0) == 0 || hash.rfind("$6$", 0) == 0) return sha_crypt_problem(hash);
  const char* use = "; use bcrypt (htpasswd -B) or SHA-crypt (openssl passwd -5 or -6)";
  if (hash.rfind("$apr1$", 0) == 0 || hash.rfind("$1$", 0) == 0) return std::string("MD5 hashes are not accepted") + use;
  if (hash.rfind("{SHA}", 0) == 0) return std::string("SHA-1 hashes are not accepted") + use;
  if (hash.empty() || hash.front() != '$') return std::string("plain-text and DES passwords are not accepted") + use;
  return std::string("unknown password encoding") + use;
}

PasswordFile PasswordFile::parse(std::string_view text, const std::string& path) {
  PasswordFile file;
  file.path_ = path;
  size_t number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    const auto fail = [&](const std::string& why) {
      throw std::runtime_error("users file " + path + " line " + std::to_string(number) + ": " + why);
    };
    for (unsigned char c : line) {
      if (c < 0x20 || c == 0x7f) fail("control byte");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) fail("expected user:hash");
    User user{std::string(line.substr(0, colon)), std::string(line.substr(colon + 1))};
    if (const std::string problem = password_hash_problem(user.hash); !problem.empty()) fail(problem);
    for (const User& other : file.users_) {
      if (other.name == user.name) fail("user '" + user.name + "' is listed twice");
    }
    file.users_.push_back(std::move(user));
  }
  return file;
}

std::shared_ptr<const PasswordFile> PasswordFile::load(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    throw std::runtime_error("users file " + path + ": cannot read it (" + std::strerror(errno) + ")");
  }
  if (!S_ISREG(info.st_mode)) throw std::runtime_error("users file " + path + ": not a regular file");
  if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    throw std::runtime_error("users file " + path + " is writable by group or others (unsafe: chmod go-w)");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    if (info.st_size == 0 && in) return std::make_shared<const PasswordFile>(parse("", path));
    throw std::runtime_error("users file " + path + ": cannot read it (" + std::strerror(errno) + ")");
  }
  return std::make_shared<const PasswordFile>(parse(text.str(), path));
}

bool PasswordFile::verify(std::string_view user, std::string_view password) const {
  if (users_.empty() || password.find('\0') != std::string_view::npos) return false;
  const User* found = nullptr;
  for (const User& candidate : users_) {
    if (candidate.name == user) found = &candidate;
  }
  const std::string& hash = (found ? *found : users_.front()).hash;  // an unknown user costs a hash too
  auto data = std::make_unique<crypt_data>();  // 32 KB: not on a connection thread's stack
  const std::string secret(password);
  const char* computed = crypt_r(secret.c_str(), hash.c_str(), data.get());
  if (computed == nullptr || std::strlen(computed) != hash.size()) return false;
  const bool same = CRYPTO_memcmp(computed, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return found != nullptr && same;
}

std::optional<BasicCredentials> parse_basic_credentials(std::string_view authorization) {
  // "Basic" (any case), one or more spaces, the token68 and nothing else.
  if (authorization.size() < 6 || authorization[5] != ' ') return std::nullopt;
  static constexpr char kScheme[] = "basic";
  for (size_t i = 0; i < 5; ++i) {
    if ((authorization[i] | 0x20) != kScheme[i]) return std::nullopt;
  }
  std::string_view encoded = authorization.substr(6);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  if (encoded.empty() || encoded.size() % 4 != 0) return std::nullopt;
  std::string decoded;
  unsigned bits = 0;
  int bit_count = 0;
  size_t padding = 0;
  for (size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    int value;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    else if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    else if (c >= '0' && c <= '9') value = c - '0' + 52;
    else if (c == '+') value = 62;
    else if (c == '/') value = 63;
    else if (c == '=' && i + 2 >= encoded.size()) { ++padding; continue; }
    else return std::nullopt;
    if (padding > 0) return std::nullopt;  // data after '='
    bits = (bits << 6) | static_cast<unsigned>(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      decoded.push_back(static_cast<char>((bits >> bit_count) & 0xff));
    }
  }
  // Canonical only: the bits left over after the last byte must be zero.
  if ((bits & ((1u << bit_count) - 1)) != 0) return std::nullopt;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  for (unsigned char c : decoded) {
    if (c < 0x20 || c == 0x7f) return std::nullopt;  // RFC 7617: no control characters
  }
  return BasicCredentials{decoded.substr(0, colon), decoded.substr(colon + 1)};
}

std::string realm_problem(std::string_view realm) {
  if (realm.empty() || realm.size() > 128) return "realm must be 1-128 characters";
  for (unsigned char c : realm) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return "realm may hold printable ASCII but '\"' and '\\'";
  }
  return "";
}

}  // namespace lb
