// The cryptography an ACME client (RFC 8555) needs, on OpenSSL 3: the account
// and certificate keys (EC P-256), JWS with ES256, the CSR, and the certificates
// the load balancer makes itself (the TLS-ALPN-01 answer of RFC 8737, the
// placeholder served until the first issuance). No I/O, no protocol state: the
// ACME flow is built on these.
//
// Every function leaves the thread's OpenSSL error queue empty, whether it
// succeeds or throws: lb/transport/tls_stream.cpp reads SSL_get_error(), which
// is only reliable on an empty queue, and may run later on the same thread.
#pragma once

#include <openssl/evp.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace lb::acme {

// RFC 4648 section 5, no padding.
std::string base64url(std::string_view bytes);
// The inverse; accepts input with or without '=' padding. Throws
// std::runtime_error on a character outside the alphabet or an impossible length.
std::string base64url_decode(std::string_view text);
std::string sha256(std::string_view bytes);  // raw 32 bytes

// An EC P-256 key (the account key and each certificate's key). Copyable
// (copies share the EVP_PKEY, which nothing here modifies after construction).
class EcKey {
 public:
  // Holds no key: native() is null and the other members throw
  // std::logic_error. Lets an EcKey be a member that is filled in later.
  EcKey() = default;
  static EcKey generate();
  // PKCS#8 or SEC1 ("EC PRIVATE KEY") PEM, unencrypted. Throws
  // std::runtime_error("not an EC P-256 private key ...") with the reason.
  static EcKey from_pem(const std::string& pem);
  // A JWK's private key members (RFC 7518 6.2): x, y, d base64url, 32 bytes
  // each. Throws std::runtime_error when they do not make a valid P-256 key
  // pair. For keys published as JWKs, such as RFC 7515 A.3's test key.
  static EcKey from_jwk_private(const std::string& x, const std::string& y, const std::string& d);

  std::string private_pem() const;  // PKCS#8 PEM, unencrypted
  EVP_PKEY* native() const;
  // {"crv":"P-256","kty":"EC","x":"...","y":"..."} (32-byte coordinates, base64url)
  nlohmann::json jwk() const;
  // RFC 7638: base64url(SHA-256 of {"crv","kty","x","y"} in that order, no spaces)
  std::string thumbprint() const;
  // JWS ES256 (RFC 7518 3.4): raw r||s, 64 bytes (not DER)
  std::string sign_es256(std::string_view data) const;

 private:
  explicit EcKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  EVP_PKEY* held() const;  // the key; throws std::logic_error when there is none
  std::shared_ptr<EVP_PKEY> key_;
};

// A JWS in flattened JSON serialization (RFC 7515 7.2.2) as ACME wants it (RFC 8555 6.2):
// protected header {"alg":"ES256","nonce":nonce,"url":url} plus "kid":kid when kid is not
// empty, else "jwk":key.jwk(). payload "" means POST-as-GET (an empty payload string, not "e30").
std::string jws(const EcKey& key, const std::string& kid, const std::string& nonce, const std::string& url,
                const std::string& payload);

// A PKCS#10 CSR, DER, signed with `key` (SHA-256), subject CN = names[0],
// subjectAltName DNS entries for every name. A names[0] longer than 64 bytes
// (the most X.520 allows a CN) leaves the subject empty: ACME CAs read the
// names from the SANs. Throws std::runtime_error when `names` is empty.
std::string csr_der(const EcKey& key, const std::vector<std::string>& names);

struct PemPair {
  std::string certificate;
  std::string key;  // PKCS#8 PEM
};
// RFC 8737: a self-signed certificate for `name` (SAN dNSName name) with the critical
// id-pe-acmeIdentifier extension (1.3.6.1.5.5.7.1.31) holding an ASN.1 OCTET STRING
// of SHA-256(key_authorization); fresh key.
PemPair tls_alpn_challenge_certificate(const std::string& name, const std::string& key_authorization);
// A self-signed placeholder for `name`, valid for `lifetime` from now (served
// until the first issuance); fresh key.
PemPair self_signed_certificate(const std::string& name, std::chrono::seconds lifetime);

// The first certificate of a PEM chain: its validity. Throws std::runtime_error
// when there is no certificate.
struct Validity {
  std::chrono::system_clock::time_point not_before, not_after;
};
Validity certificate_validity(const std::string& pem_chain);
// True when `certificate_pem`'s first certificate matches `key`
// (X509_check_private_key); false too when there is no certificate to read.
bool certificate_matches_key(const std::string& certificate_pem, const EcKey& key);

}  // namespace lb::acme
