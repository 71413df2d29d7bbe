// Owning handles for the OpenSSL objects lb/acme/ makes, and the one way it
// turns an OpenSSL failure into an exception. Internal to lb/acme/.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace lb::acme::detail {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* object) const { Free(object); }
};
template <typename T, void (*Free)(T*)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

using Bio = Handle<BIO, BIO_free_all>;
using Bignum = Handle<BIGNUM, BN_free>;
using EcdsaSig = Handle<ECDSA_SIG, ECDSA_SIG_free>;
using PkeyCtx = Handle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtx = Handle<EVP_MD_CTX, EVP_MD_CTX_free>;
using X509Req = Handle<X509_REQ, X509_REQ_free>;
using X509Cert = Handle<X509, X509_free>;
using X509Ext = Handle<X509_EXTENSION, X509_EXTENSION_free>;
using Asn1Octets = Handle<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using Asn1Object = Handle<ASN1_OBJECT, ASN1_OBJECT_free>;
using Asn1Integer = Handle<ASN1_INTEGER, ASN1_INTEGER_free>;
using GeneralNames = Handle<GENERAL_NAMES, GENERAL_NAMES_free>;

inline std::shared_ptr<EVP_PKEY> share(EVP_PKEY* key) { return {key, EVP_PKEY_free}; }

// `what` and OpenSSL's reason for the last failure; empties the thread's error
// queue, as every function of acme_crypto.h promises.
[[noreturn]] inline void fail(const std::string& what) {
  unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  std::string message = what;
  if (code != 0) {
    const char* reason = ERR_reason_error_string(code);
    message += ": ";
    message += reason ? reason : "OpenSSL error " + std::to_string(code);
  }
  throw std::runtime_error(message);
}

// Throws unless `ok` (OpenSSL's 1 or a non-null pointer).
template <typename T>
T check(T ok, const char* what) {
  if (!ok) fail(what);
  return ok;
}
inline void check(int result, const char* what) {
  if (result != 1) fail(what);
}

// A memory BIO's contents.
inline std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(length));
}

// A read-only BIO over `text` (which must outlive it).
inline Bio memory_bio(const std::string& text) {
  return Bio(check(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), "BIO_new_mem_buf"));
}

}  // namespace lb::acme::detail
