#include "lb/transport/tls_context.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace lb {

namespace {

// Mozilla's "intermediate" TLS 1.2 list without DHE: forward secrecy and AEAD
// only. TLS 1.3 suites are all AEAD; OpenSSL's default set is kept.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// ALPN wire format: length-prefixed protocol names.
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
// Our preference first: a client that offers both gets HTTP/2.
constexpr unsigned char kAlpnH2AndHttp11[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};


// The most specific OpenSSL reason for the last failure; empties the thread's
// error queue so the next SSL call on this thread starts clean.
std::string openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "error " + std::to_string(code);
}

// OpenSSL's messages for a missing file are vague ("system library"), so the
// file is opened first to name the real cause.
void check_readable(const std::string& path, const char* what) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file != nullptr) {
    std::fgetc(file);  // a directory opens fine but fails to read
    bool failed = std::ferror(file) != 0;
    int saved = errno;
    std::fclose(file);
    if (!failed) return;
    errno = saved;
  }
  throw std::runtime_error(std::string(what) + " " + path + ": " + std::strerror(errno));
}

// A passphrase prompt on the terminal would hang a service: refuse instead.
int no_passphrase(char*, int, int, void*) { return 0; }

// The protocol name's place in the client's ALPN list, or nullptr.
const unsigned char* find_protocol(const unsigned char* offered, unsigned int offered_len, const char* name) {
  const size_t name_len = std::strlen(name);
  for (unsigned int at = 0; at < offered_len; at += 1 + offered[at]) {
    if (offered[at] == name_len && at + 1 + name_len <= offered_len &&
        std::memcmp(offered + at + 1, name, name_len) == 0) {
      return offered + at + 1;
    }
  }
  return nullptr;
}

// The host name in the ClientHello's server_name extension (RFC 6066 3), or "".
std::string client_hello_server_name(SSL* ssl) {
  const unsigned char* data = nullptr;
  size_t len = 0;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &data, &len) != 1 || len < 5) return "";
  const size_t list_len = (size_t{data[0]} << 8) | data[1];
  const size_t name_len = (size_t{data[3]} << 8) | data[4];
  if (list_len + 2 > len || data[2] != TLSEXT_NAMETYPE_host_name || 5 + name_len > len) return "";
  return std::string(reinterpret_cast<const char*>(data + 5), name_len);
}

// An SSL ex_data slot: set on a handshake that is an ACME TLS-ALPN-01 validation.
int acme_validation_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool is_acme_validation(SSL* ssl) { return SSL_get_ex_data(ssl, acme_validation_index()) != nullptr; }

struct PemObjects {
  std::vector<X509*> chain;  // the certificate first
  EVP_PKEY* key = nullptr;
  ~PemObjects() {
    for (X509* cert : chain) X509_free(cert);
    EVP_PKEY_free(key);
  }
};

// A certificate given as PEM text (TlsCertificate::cert_pem): the chain and the key.
void read_pem(const TlsCertificate& certificate, PemObjects& out) {
  BIO* chain = BIO_new_mem_buf(certificate.cert_pem.data(), static_cast<int>(certificate.cert_pem.size()));
  while (X509* cert = chain ? PEM_read_bio_X509(chain, nullptr, no_passphrase, nullptr) : nullptr) {
    out.chain.push_back(cert);
  }
  BIO_free(chain);
  BIO* key = BIO_new_mem_buf(certificate.key_pem.data(), static_cast<int>(certificate.key_pem.size()));
  out.key = key ? PEM_read_bio_PrivateKey(key, nullptr, no_passphrase, nullptr) : nullptr;
  BIO_free(key);
  ERR_clear_error();  // the end of the chain reads as an error
  if (out.chain.empty() || out.key == nullptr) throw std::runtime_error("TLS: an in-memory certificate is not PEM");
}

// A certificate chain and its key on `ctx`, from files or PEM text. `label`
// names them in errors ("TLS" for ours, "TLS client" for --backend-cert).
void use_certificate(SSL_CTX* ctx, const TlsCertificate& certificate, const std::string& label) {
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
  if (!certificate.cert_pem.empty()) {
    PemObjects pem;
    read_pem(certificate, pem);
    bool used = SSL_CTX_use_certificate(ctx, pem.chain[0]) == 1;
    for (size_t i = 1; used && i < pem.chain.size(); ++i) used = SSL_CTX_add1_chain_cert(ctx, pem.chain[i]) == 1;
    used = used && SSL_CTX_use_PrivateKey(ctx, pem.key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
    if (!used) throw std::runtime_error(label + ": an in-memory certificate cannot be used (" + openssl_reason() + ")");
    return;
  }
  check_readable(certificate.cert_file, (label + " certificate").c_str());
  check_readable(certificate.key_file, (label + " key").c_str());
  if (SSL_CTX_use_certificate_chain_file(ctx, certificate.cert_file.c_str()) != 1) {
    throw std::runtime_error(label + " certificate " + certificate.cert_file + ": not a PEM certificate (" +
                             openssl_reason() + ")");
  }
  // Loading the key already compares it with the certificate.
  if (SSL_CTX_use_PrivateKey_file(ctx, certificate.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    const unsigned long code = ERR_peek_last_error();
    const std::string reason = openssl_reason();
    const bool mismatch = ERR_GET_LIB(code) == ERR_LIB_X509 && (ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH ||
                                                                ERR_GET_REASON(code) == X509_R_KEY_TYPE_MISMATCH);
    throw std::runtime_error(mismatch ? label + " key " + certificate.key_file + " does not match certificate " +
                                            certificate.cert_file
                                      : label + " key " + certificate.key_file +
                                            ": not an unencrypted PEM private key (" + reason + ")");
  }
}

// One context per certificate, all configured alike: after an SNI switch the
// handshake continues with the new context's ALPN callback and certificate.
SSL_CTX* new_server_context(const TlsCertificate& certificate) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) throw std::runtime_error("TLS: cannot create context: " + openssl_reason());
  try {
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
      throw std::runtime_error("TLS: cipher list rejected: " + openssl_reason());
    }
    SSL_CTX_set_read_ahead(ctx, 1);  // one recv() for many records, not two per record
    // An idle connection keeps no record buffers (~34 KB each), as in nginx.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    use_certificate(ctx, certificate, "TLS");
  } catch (...) {
    SSL_CTX_free(ctx);
    throw;
  }
  return ctx;
}

// --tls-client-ca on one server context. Its own store and CA list, so an SNI
// switch (SSL_set_SSL_CTX) verifies against the same CAs.
void ask_client_certificates(SSL_CTX* ctx, const ClientCertificatePolicy& clients) {
  check_readable(clients.ca_file, "TLS client CA file");
  // The names sent in the CertificateRequest, so a client with several certificates picks the right one.
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(clients.ca_file.c_str());
  if (names == nullptr || SSL_CTX_load_verify_locations(ctx, clients.ca_file.c_str(), nullptr) != 1) {
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    throw std::runtime_error("TLS client CA file " + clients.ca_file + ": no PEM certificates (" + openssl_reason() +
                             ")");
  }
  SSL_CTX_set_client_CA_list(ctx, names);  // takes `names`
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (clients.required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
  // OpenSSL refuses to resume a session with peer verification on unless a
  // session id context is set (SSL_R_SESSION_ID_CONTEXT_UNINITIALIZED).
  static const unsigned char kSessionContext[] = "cpp-lb client certificates";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
}

}  // namespace

TlsServerContext::TlsServerContext(const std::vector<TlsCertificate>& certificates, bool offer_h2,
                                   const ClientCertificatePolicy& clients, AlpnChallengeLookup acme_challenges)
    : offer_h2_(offer_h2), acme_challenges_(std::move(acme_challenges)) {
  if (certificates.empty()) throw std::runtime_error("TLS: no certificate given");
  try {
    for (const auto& certificate : certificates) contexts_.push_back(new_server_context(certificate));
    if (!clients.ca_file.empty()) {
      for (SSL_CTX* ctx : contexts_) ask_client_certificates(ctx, clients);
    }
  } catch (...) {
    for (SSL_CTX* ctx : contexts_) SSL_CTX_free(ctx);
    throw;
  }
  for (SSL_CTX* ctx : contexts_) {
    SSL_CTX_set_alpn_select_cb(ctx, on_alpn, this);
    SSL_CTX_set_client_hello_cb(ctx, on_client_hello, this);
  }
  // Only the default context sees the ClientHello's SNI; it picks the others.
  SSL_CTX_set_tlsext_servername_callback(contexts_.front(), on_server_name);
  SSL_CTX_set_tlsext_servername_arg(contexts_.front(), this);
}

TlsServerContext::~TlsServerContext() {
  for (SSL_CTX* ctx : contexts_) SSL_CTX_free(ctx);
}

// Runs during the handshake on the connection's thread; reads only immutable
// state, so no lock. X509_check_host applies RFC 6125: SAN DNS entries first,
// the CN only when there are none, a wildcard for one whole label.
int TlsServerContext::on_server_name(SSL* ssl, int*, void* self) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;  // no SNI: the default
  if (is_acme_validation(ssl)) return SSL_TLSEXT_ERR_OK;  // keeps its challenge certificate
  const auto& contexts = static_cast<TlsServerContext*>(self)->contexts_;
  for (SSL_CTX* ctx : contexts) {
    X509* cert = SSL_CTX_get0_certificate(ctx);
    if (cert != nullptr && X509_check_host(cert, name, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1) {
      if (ctx != contexts.front()) SSL_set_SSL_CTX(ssl, ctx);
      break;
    }
  }
  return SSL_TLSEXT_ERR_OK;  // unknown names get the default, like nginx's default_server
}

// The first callback of a handshake, before SNI and ALPN are processed: a
// TLS-ALPN-01 validation (it offers "acme-tls/1" and names a domain with a
// challenge waiting) gets the challenge's certificate now, because with TLS
// 1.2 ALPN is chosen only after the certificate. It is marked, so the SNI
// callback keeps that certificate and the ALPN callback picks "acme-tls/1";
// and it is not asked for a client certificate (--tls-client-ca), which a
// validator does not have.
int TlsServerContext::on_client_hello(SSL* ssl, int*, void* self) {
  const auto* context = static_cast<const TlsServerContext*>(self);
  const unsigned char* alpn = nullptr;
  size_t alpn_len = 0;
  if (!context->acme_challenges_ ||
      SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &alpn, &alpn_len) != 1 ||
      alpn_len < 2 || find_protocol(alpn + 2, static_cast<unsigned int>(alpn_len - 2), kAcmeTlsAlpn) == nullptr) {
    return SSL_CLIENT_HELLO_SUCCESS;
  }
  const std::string name = client_hello_server_name(ssl);
  const std::optional<TlsCertificate> challenge = name.empty() ? std::nullopt : context->acme_challenges_(name);
  if (!challenge) return SSL_CLIENT_HELLO_SUCCESS;  // the ALPN callback refuses acme-tls/1
  PemObjects pem;
  try {
    read_pem(*challenge, pem);
  } catch (const std::runtime_error&) {
    return SSL_CLIENT_HELLO_ERROR;
  }
  if (SSL_use_cert_and_key(ssl, pem.chain[0], pem.key, nullptr, /*override=*/1) != 1) {
    ERR_clear_error();
    return SSL_CLIENT_HELLO_ERROR;
  }
  SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
  SSL_set_ex_data(ssl, acme_validation_index(), ssl);  // any non-null value marks it
  return SSL_CLIENT_HELLO_SUCCESS;
}

// ALPN: our preference first (h2, then http/1.1); "acme-tls/1" only for a
// validation on_client_hello() marked.
int TlsServerContext::on_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_len,
                              const unsigned char* offered, unsigned int offered_len, void* self) {
  const auto* context = static_cast<const TlsServerContext*>(self);
  if (is_acme_validation(ssl)) {
    *out = find_protocol(offered, offered_len, kAcmeTlsAlpn);
    *out_len = static_cast<unsigned char>(std::strlen(kAcmeTlsAlpn));
    return SSL_TLSEXT_ERR_OK;
  }
  const unsigned char* ours = context->offer_h2_ ? kAlpnH2AndHttp11 : kAlpnHttp11;
  const unsigned int ours_len = context->offer_h2_ ? sizeof kAlpnH2AndHttp11 : sizeof kAlpnHttp11;
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_len, ours, ours_len, offered, offered_len) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol (RFC 7301 3.2)
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

TlsClientContext::TlsClientContext(bool verify, const std::string& ca_file, const TlsCertificate& certificate) {
  if (verify && !ca_file.empty()) check_readable(ca_file, "TLS CA file");
  context_ = SSL_CTX_new(TLS_client_method());
  if (context_ == nullptr) throw std::runtime_error("TLS: cannot create context: " + openssl_reason());
  SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
  SSL_CTX_set_options(context_, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_read_ahead(context_, 1);
  SSL_CTX_set_mode(context_, SSL_MODE_RELEASE_BUFFERS);  // pooled idle connections keep no record buffers
  SSL_CTX_set_alpn_protos(context_, kAlpnHttp11, sizeof kAlpnHttp11);
  try {
    if (!certificate.cert_file.empty() || !certificate.key_file.empty()) {
      use_certificate(context_, certificate, "TLS client");
    }
  } catch (...) {
    SSL_CTX_free(context_);
    throw;
  }
  if (!verify) {
    SSL_CTX_set_verify(context_, SSL_VERIFY_NONE, nullptr);
    return;
  }
  SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
  int loaded = ca_file.empty() ? SSL_CTX_set_default_verify_paths(context_)
                               : SSL_CTX_load_verify_locations(context_, ca_file.c_str(), nullptr);
  if (loaded != 1) {
    std::string reason = openssl_reason();
    SSL_CTX_free(context_);
    throw std::runtime_error(ca_file.empty() ? "TLS: cannot load the system CA store (" + reason + ")"
                                             : "TLS CA file " + ca_file + ": no PEM certificates (" + reason + ")");
  }
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(context_); }

}  // namespace lb
