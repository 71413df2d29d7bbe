// The X.509 side of ACME: the CSR sent to finalize an order (RFC 8555 7.4),
// the certificates the load balancer signs itself (the TLS-ALPN-01 answer of
// RFC 8737 3, the placeholder served until the first issuance), and what the
// renewal logic reads back from a certificate.
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <ctime>
#include <stdexcept>

#include "lb/acme/acme_crypto.h"
#include "lb/acme/openssl_handles.h"

namespace lb::acme {

using namespace detail;

namespace {

constexpr size_t kMaxCommonName = 64;  // ub-common-name (RFC 5280 Appendix A.1)
// id-pe-acmeIdentifier (RFC 8737 6.1): id-pe 31.
constexpr char kAcmeIdentifierOid[] = "1.3.6.1.5.5.7.1.31";
// The TLS-ALPN-01 certificate only has to last while the CA validates; it
// starts a day early so a CA whose clock runs behind ours still accepts it.
constexpr std::chrono::seconds kChallengeBackdate = std::chrono::hours(24);
constexpr std::chrono::seconds kChallengeLifetime = std::chrono::hours(24 * 7);

// CN = name, unless the name is longer than a CN may be (then the subject
// stays empty and the SAN alone names the host, as RFC 5280 4.2.1.6 allows).
void set_common_name(X509_NAME* subject, const std::string& name) {
  if (name.size() > kMaxCommonName) return;
  check(X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(name.data()),
                                   static_cast<int>(name.size()), -1, 0),
        "X.509: cannot set the common name");
}

// subjectAltName with one dNSName per name (not critical: the subject is not
// empty whenever the name fits a CN; RFC 5280 4.2.1.6).
X509Ext subject_alt_names(const std::vector<std::string>& names) {
  GeneralNames general_names(check(GENERAL_NAMES_new(), "GENERAL_NAMES_new"));
  for (const std::string& name : names) {
    ASN1_IA5STRING* ia5 = check(ASN1_IA5STRING_new(), "ASN1_IA5STRING_new");
    if (ASN1_STRING_set(ia5, name.data(), static_cast<int>(name.size())) != 1) {
      ASN1_IA5STRING_free(ia5);
      fail("X.509: cannot store a DNS name");
    }
    GENERAL_NAME* general_name = GENERAL_NAME_new();
    if (general_name == nullptr) {
      ASN1_IA5STRING_free(ia5);
      fail("GENERAL_NAME_new");
    }
    GENERAL_NAME_set0_value(general_name, GEN_DNS, ia5);  // general_name owns ia5 now
    if (sk_GENERAL_NAME_push(general_names.get(), general_name) <= 0) {
      GENERAL_NAME_free(general_name);
      fail("X.509: cannot list a DNS name");
    }
  }
  return X509Ext(check(X509V3_EXT_i2d(NID_subject_alt_name, 0, general_names.get()),
                       "X.509: cannot encode subjectAltName"));
}

// id-pe-acmeIdentifier, critical, its extnValue the DER of an OCTET STRING
// holding SHA-256(key authorization) (RFC 8737 3): the OCTET STRING is nested
// inside the extension's own OCTET STRING.
X509Ext acme_identifier(const std::string& key_authorization) {
  std::string digest = sha256(key_authorization);
  Asn1Octets inner(check(ASN1_OCTET_STRING_new(), "ASN1_OCTET_STRING_new"));
  check(ASN1_OCTET_STRING_set(inner.get(), reinterpret_cast<const unsigned char*>(digest.data()),
                              static_cast<int>(digest.size())),
        "ASN1_OCTET_STRING_set");
  unsigned char* der = nullptr;
  int der_length = i2d_ASN1_OCTET_STRING(inner.get(), &der);
  if (der_length <= 0) fail("acmeIdentifier: cannot encode the digest");
  Asn1Octets value(ASN1_OCTET_STRING_new());
  bool stored = value && ASN1_OCTET_STRING_set(value.get(), der, der_length) == 1;
  OPENSSL_free(der);
  if (!stored) fail("acmeIdentifier: cannot store the digest");
  Asn1Object oid(check(OBJ_txt2obj(kAcmeIdentifierOid, 1), "acmeIdentifier: OID"));
  return X509Ext(check(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 1, value.get()),
                       "acmeIdentifier: cannot make the extension"));
}

// A random positive 127-bit serial: unique without state (RFC 5280 4.1.2.2
// allows up to 20 octets).
void set_random_serial(X509* certificate) {
  unsigned char bytes[16];
  check(RAND_bytes(bytes, sizeof bytes), "X.509: RAND_bytes");
  bytes[0] &= 0x7F;  // positive
  bytes[0] |= 0x40;  // and never zero
  Bignum number(check(BN_bin2bn(bytes, sizeof bytes, nullptr), "BN_bin2bn"));
  Asn1Integer serial(check(BN_to_ASN1_INTEGER(number.get(), nullptr), "BN_to_ASN1_INTEGER"));
  check(X509_set_serialNumber(certificate, serial.get()), "X.509: cannot set the serial number");
}

// A certificate for `name`, signed by its own `key` with SHA-256, valid from
// `not_before` (seconds from now, may be negative) for `lifetime` from now.
X509Cert self_signed(const std::string& name, const EcKey& key, std::chrono::seconds not_before,
                     std::chrono::seconds lifetime, X509_EXTENSION* extra) {
  X509Cert certificate(check(X509_new(), "X509_new"));
  X509* cert = certificate.get();
  check(X509_set_version(cert, X509_VERSION_3), "X.509: version");  // v3: it has extensions
  set_random_serial(cert);
  check(X509_gmtime_adj(X509_getm_notBefore(cert), static_cast<long>(not_before.count())), "X.509: notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert), static_cast<long>(lifetime.count())), "X.509: notAfter");
  X509_NAME* subject = X509_get_subject_name(cert);
  set_common_name(subject, name);
  check(X509_set_issuer_name(cert, subject), "X.509: issuer");
  check(X509_set_pubkey(cert, key.native()), "X.509: public key");
  X509Ext names = subject_alt_names({name});
  check(X509_add_ext(cert, names.get(), -1), "X.509: subjectAltName");
  if (extra != nullptr) check(X509_add_ext(cert, extra, -1), "X.509: extension");
  if (X509_sign(cert, key.native(), EVP_sha256()) <= 0) fail("X.509: cannot sign");
  return certificate;
}

PemPair to_pem(X509* certificate, const EcKey& key) {
  Bio bio(check(BIO_new(BIO_s_mem()), "BIO_new"));
  check(PEM_write_bio_X509(bio.get(), certificate), "X.509: cannot write PEM");
  return {bio_text(bio.get()), key.private_pem()};
}

// The first certificate of a PEM text, or null (with an empty error queue).
X509Cert first_certificate(const std::string& pem) {
  Bio bio = memory_bio(pem);
  X509Cert certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return certificate;
}

void free_extensions(STACK_OF(X509_EXTENSION) * list) { sk_X509_EXTENSION_pop_free(list, X509_EXTENSION_free); }
using Extensions = Handle<STACK_OF(X509_EXTENSION), free_extensions>;

std::chrono::system_clock::time_point to_time_point(const ASN1_TIME* time) {
  std::tm fields{};
  check(ASN1_TIME_to_tm(time, &fields), "X.509: unreadable validity time");
  return std::chrono::system_clock::from_time_t(timegm(&fields));  // ASN1_TIME is UTC
}

}  // namespace

std::string csr_der(const EcKey& key, const std::vector<std::string>& names) {
  if (names.empty()) throw std::runtime_error("CSR: no names");
  if (key.native() == nullptr) throw std::logic_error("CSR: no key (default-constructed EcKey)");
  X509Req request(check(X509_REQ_new(), "X509_REQ_new"));
  check(X509_REQ_set_version(request.get(), X509_REQ_VERSION_1), "CSR: version");
  set_common_name(X509_REQ_get_subject_name(request.get()), names.front());
  check(X509_REQ_set_pubkey(request.get(), key.native()), "CSR: public key");

  // The SANs travel as a PKCS#9 extensionRequest attribute (RFC 2986 4.1).
  Extensions extensions(check(sk_X509_EXTENSION_new_null(), "sk_X509_EXTENSION_new_null"));
  X509Ext names_extension = subject_alt_names(names);
  if (sk_X509_EXTENSION_push(extensions.get(), names_extension.get()) <= 0) fail("CSR: extension list");
  names_extension.release();  // the stack owns it now
  check(X509_REQ_add_extensions(request.get(), extensions.get()), "CSR: extensionRequest");

  if (X509_REQ_sign(request.get(), key.native(), EVP_sha256()) <= 0) fail("CSR: cannot sign");
  int length = i2d_X509_REQ(request.get(), nullptr);
  if (length <= 0) fail("CSR: cannot encode");
  std::string der(static_cast<size_t>(length), '\0');
  auto* cursor = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_X509_REQ(request.get(), &cursor) != length) fail("CSR: cannot encode");
  return der;
}

PemPair tls_alpn_challenge_certificate(const std::string& name, const std::string& key_authorization) {
  EcKey key = EcKey::generate();
  X509Ext identifier = acme_identifier(key_authorization);
  X509Cert certificate = self_signed(name, key, -kChallengeBackdate, kChallengeLifetime, identifier.get());
  return to_pem(certificate.get(), key);
}

PemPair self_signed_certificate(const std::string& name, std::chrono::seconds lifetime) {
  EcKey key = EcKey::generate();
  X509Cert certificate = self_signed(name, key, std::chrono::seconds(0), lifetime, nullptr);
  return to_pem(certificate.get(), key);
}

Validity certificate_validity(const std::string& pem_chain) {
  X509Cert certificate = first_certificate(pem_chain);
  if (!certificate) throw std::runtime_error("certificate validity: no PEM certificate in the text");
  return {to_time_point(X509_get0_notBefore(certificate.get())),
          to_time_point(X509_get0_notAfter(certificate.get()))};
}

bool certificate_matches_key(const std::string& certificate_pem, const EcKey& key) {
  if (key.native() == nullptr) throw std::logic_error("certificate_matches_key: no key (default-constructed EcKey)");
  X509Cert certificate = first_certificate(certificate_pem);
  if (!certificate) return false;
  bool matches = X509_check_private_key(certificate.get(), key.native()) == 1;
  ERR_clear_error();  // a mismatch leaves "key values mismatch" on the queue
  return matches;
}

}  // namespace lb::acme
