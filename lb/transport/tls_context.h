// OpenSSL contexts for the proxy path: the listening side (--tls-cert/--tls-key,
// --tls-client-ca) and the client side towards https:// backends (--backend-ca,
// --backend-cert/--backend-key, per pool too).
//
// Both are built at start-up (and again by a reload) and then only read, so one instance serves
// every connection thread without locking (OpenSSL's SSL_CTX is thread-safe
// for SSL_new and the callbacks below).
#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace lb {

struct TlsCertificate {
  std::string cert_file;  // PEM: the certificate, then any intermediates
  std::string key_file;   // PEM: its private key, unencrypted
  // Or the PEM text itself, when cert_pem is not empty (ACME's certificates, lb/acme/).
  std::string cert_pem = {};
  std::string key_pem = {};
};

// TLS-ALPN-01 (RFC 8737): while an ACME order waits, a handshake for `name`
// that offers "acme-tls/1" gets this certificate (PEM) instead of ours, and
// ends there. nullopt: no challenge for that name.
using AlpnChallengeLookup = std::function<std::optional<TlsCertificate>(const std::string& name)>;
constexpr const char* kAcmeTlsAlpn = "acme-tls/1";

// Certificates asked of TLS clients (--tls-client-ca, --tls-client-verify),
// as nginx's ssl_client_certificate and ssl_verify_client on|optional.
struct ClientCertificatePolicy {
  std::string ca_file;   // PEM: the CAs a client's certificate must chain to; "": none asked
  bool required = true;  // false: a client without one passes; one presented must still verify
};

// How https:// backends are checked and what they are shown (--backend-ca,
// --backend-insecure, --backend-cert/--backend-key; a pool may have its own).
struct TlsClientFiles {
  bool verify = true;
  std::string ca_file;         // "": the system store
  TlsCertificate certificate;  // both empty: no client certificate is presented

  bool operator==(const TlsClientFiles& other) const {
    return verify == other.verify && ca_file == other.ca_file && certificate.cert_file == other.certificate.cert_file &&
           certificate.key_file == other.certificate.key_file;
  }
  bool operator!=(const TlsClientFiles& other) const { return !(*this == other); }
};

// Server side: TLS 1.2 and 1.3 only; ECDHE with AEAD ciphers for TLS 1.2;
// ALPN "h2" then "http/1.1" (only "http/1.1" without `offer_h2`; a client
// offering only other protocols is refused, as RFC 7301 asks); session tickets on.
//
// The first certificate is the default. Each other one is chosen when the
// client's SNI name matches its subjectAltName DNS entries (wildcards such as
// *.example.com cover one label) or, without DNS entries, its CN; the first
// match in the given order wins. Unknown or absent names get the default.
//
// With `clients.ca_file`, every context asks the client for a certificate
// chaining to it: a handshake with one that does not verify fails, and so does
// one without when `clients.required`. TlsStream::client_subject() tells a
// connection's verified subject.
//
// With `acme_challenges`, a handshake offering "acme-tls/1" for a name with a
// TLS-ALPN-01 challenge waiting gets that challenge's certificate (and is not
// asked for a client certificate); the caller closes it after the handshake.
//
// Throws std::runtime_error with a one-line message naming the file when a
// file is missing or unreadable, is not a PEM certificate / key, or the key
// does not match its certificate.
class TlsServerContext {
 public:
  explicit TlsServerContext(const std::vector<TlsCertificate>& certificates, bool offer_h2 = true,
                            const ClientCertificatePolicy& clients = {},
                            AlpnChallengeLookup acme_challenges = nullptr);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  SSL_CTX* native() const { return contexts_.front(); }  // the default context

 private:
  static int on_server_name(SSL* ssl, int* alert, void* self);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_len, const unsigned char* offered,
                     unsigned int offered_len, void* self);
  static int on_client_hello(SSL* ssl, int* alert, void* self);
  std::vector<SSL_CTX*> contexts_;  // one per certificate, same settings; [0] is the default
  bool offer_h2_;
  AlpnChallengeLookup acme_challenges_;  // nullptr without ACME
};

// Client side, for https:// backends: TLS 1.2+, ALPN "http/1.1" offered.
// With `verify`, the backend's chain is checked against `ca_file` alone when
// it is given, else against the system store; connect_tls() also checks the
// host name. verify=false accepts any certificate (testing only). A
// `certificate` (cert_file and key_file) is presented to backends that ask.
// Throws std::runtime_error naming the file when one cannot be loaded, or
// when the key does not match the certificate.
class TlsClientContext {
 public:
  TlsClientContext(bool verify, const std::string& ca_file, const TlsCertificate& certificate = {});
  explicit TlsClientContext(const TlsClientFiles& files)
      : TlsClientContext(files.verify, files.ca_file, files.certificate) {}
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  SSL_CTX* native() const { return context_; }

 private:
  SSL_CTX* context_;
};

}  // namespace lb
