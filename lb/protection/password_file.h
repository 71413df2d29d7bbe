// Basic auth's users (README "Access control"): an htpasswd file, `user:hash`
// a line, with bcrypt ($2y$, $2b$; `htpasswd -B`) or SHA-crypt ($5$, $6$;
// `openssl passwd -5/-6`) hashes, checked with libcrypt's crypt_r().
//
// Weak or unknown encodings (plain text, DES, MD5 $apr1$/$1$, {SHA}) are
// refused when the file is read, naming the file and the line; so is a file
// that others may write (group or other write permission: "unsafe").
// Verification is slow on purpose (bcrypt at cost 10: ~50-100 ms) and takes
// no lock: the table is immutable once read (a SIGHUP reads a new one).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lb {

class PasswordFile {
 public:
  // Reads and checks the file. Throws std::runtime_error with one line:
  // "users file F: cannot read it (...)", "... is writable by group or
  // others (unsafe)", "users file F line N: ...".
  static std::shared_ptr<const PasswordFile> load(const std::string& path);
  // The same checks on `text`, `path` naming it in messages.
  static PasswordFile parse(std::string_view text, const std::string& path);

  // True when `user` is listed and `password` hashes to its hash (compared in
  // constant time). An unknown user costs a hash too, so timing does not tell.
  bool verify(std::string_view user, std::string_view password) const;
  std::size_t size() const { return users_.size(); }
  const std::string& path() const { return path_; }

 private:
  struct User {
    std::string name;
    std::string hash;  // "$2y$10$...", "$6$salt$..."
  };
  std::string path_;
  std::vector<User> users_;
};

// Why `hash` cannot be used, or "" when it is a well-formed bcrypt or SHA-crypt hash.
std::string password_hash_problem(std::string_view hash);

// The user and password of an `Authorization: Basic <base64>` value, or
// nullopt when it is anything else: another scheme, base64 that is not strict
// (padding, stray bytes, non-zero spare bits), no ':', or control bytes.
struct BasicCredentials {
  std::string user;
  std::string password;
};
std::optional<BasicCredentials> parse_basic_credentials(std::string_view authorization);

// The realm's problem for a quoted-string in WWW-Authenticate ("" when fine):
// printable ASCII without '"' or '\\', 1-128 bytes.
std::string realm_problem(std::string_view realm);

// A route's "basic-auth": its realm and its users file, read at start and on SIGHUP.
struct BasicAuth {
  std::string realm;
  std::shared_ptr<const PasswordFile> users;
};

}  // namespace lb
