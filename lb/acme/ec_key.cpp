// EcKey: an EC P-256 key through OpenSSL 3's EVP_PKEY and provider parameters
// (no deprecated EC_KEY calls).
#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <stdexcept>

#include "lb/acme/acme_crypto.h"
#include "lb/acme/openssl_handles.h"

namespace lb::acme {

using namespace detail;

namespace {

constexpr size_t kCoordinateBytes = 32;  // P-256: x, y, d, r and s are 256-bit numbers
constexpr char kNotP256[] = "not an EC P-256 private key";

// A passphrase prompt on the terminal would hang a service: an encrypted key is refused instead.
int no_passphrase(char*, int, int, void*) { return 0; }

// One of the key's numbers, big-endian, left-padded to 32 bytes as RFC 7518
// 6.2.1.2 wants the coordinates (a leading zero byte is kept, not dropped).
std::string padded_number(EVP_PKEY* key, const char* param) {
  BIGNUM* raw = nullptr;
  check(EVP_PKEY_get_bn_param(key, param, &raw), "EC key: cannot read a coordinate");
  Bignum number(raw);
  std::string bytes(kCoordinateBytes, '\0');
  if (BN_bn2binpad(number.get(), reinterpret_cast<unsigned char*>(bytes.data()), kCoordinateBytes) < 0) {
    fail("EC key: a coordinate does not fit 32 bytes");
  }
  return bytes;
}

// The reason `key` is not an EC P-256 key, or "" when it is one.
std::string why_not_p256(EVP_PKEY* key) {
  if (!EVP_PKEY_is_a(key, "EC")) {
    const char* type = EVP_PKEY_get0_type_name(key);
    return std::string("a ") + (type ? type : "non-EC") + " key";
  }
  char group[64] = {};
  size_t length = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof group, &length) != 1) {
    ERR_clear_error();
    return "an EC key with explicit curve parameters";
  }
  if (OBJ_txt2nid(group) != NID_X9_62_prime256v1) return std::string("an EC key on curve ") + group;
  return "";
}

}  // namespace

EcKey EcKey::generate() {
  return EcKey(share(check(EVP_EC_gen("P-256"), "EC key: cannot generate a P-256 key")));
}

EcKey EcKey::from_pem(const std::string& pem) {
  Bio bio = memory_bio(pem);
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (raw == nullptr) fail(std::string(kNotP256) + " (no unencrypted PEM private key found)");
  auto key = share(raw);
  ERR_clear_error();  // the PEM reader may leave notes from formats it tried first
  std::string why = why_not_p256(key.get());
  if (!why.empty()) throw std::runtime_error(std::string(kNotP256) + " (" + why + ")");
  return EcKey(std::move(key));
}

EcKey EcKey::from_jwk_private(const std::string& x, const std::string& y, const std::string& d) {
  std::string x_bytes = base64url_decode(x), y_bytes = base64url_decode(y), d_bytes = base64url_decode(d);
  if (x_bytes.size() != kCoordinateBytes || y_bytes.size() != kCoordinateBytes ||
      d_bytes.size() != kCoordinateBytes) {
    throw std::runtime_error(std::string(kNotP256) + " (x, y and d must be 32 bytes each)");
  }
  // The public key as an uncompressed point (SEC 1 2.3.3): 0x04, x, y.
  std::string point = "\x04" + x_bytes + y_bytes;
  Bignum private_number(check(BN_bin2bn(reinterpret_cast<const unsigned char*>(d_bytes.data()),
                                        static_cast<int>(d_bytes.size()), nullptr),
                              "EC key: BN_bin2bn"));
  Handle<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> builder(check(OSSL_PARAM_BLD_new(), "OSSL_PARAM_BLD_new"));
  check(OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
        "EC key: group parameter");
  check(OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
        "EC key: public key parameter");
  check(OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, private_number.get()),
        "EC key: private key parameter");
  Handle<OSSL_PARAM, OSSL_PARAM_free> params(check(OSSL_PARAM_BLD_to_param(builder.get()), "OSSL_PARAM_BLD"));

  PkeyCtx context(check(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr), "EVP_PKEY_CTX_new_from_name"));
  check(EVP_PKEY_fromdata_init(context.get()), "EVP_PKEY_fromdata_init");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(context.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    fail(std::string(kNotP256) + " (x, y are not a point on P-256)");
  }
  auto key = share(raw);
  // fromdata takes the numbers as given: check that d really is the private half of (x, y).
  PkeyCtx checker(check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr), "EVP_PKEY_CTX_new_from_pkey"));
  if (EVP_PKEY_pairwise_check(checker.get()) != 1) fail(std::string(kNotP256) + " (d does not match x, y)");
  return EcKey(std::move(key));
}

EVP_PKEY* EcKey::held() const {
  if (!key_) throw std::logic_error("EcKey: no key (default-constructed)");
  return key_.get();
}

EVP_PKEY* EcKey::native() const { return key_.get(); }

std::string EcKey::private_pem() const {
  Bio bio(check(BIO_new(BIO_s_mem()), "BIO_new"));
  // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY") in OpenSSL 3.
  check(PEM_write_bio_PrivateKey(bio.get(), held(), nullptr, nullptr, 0, nullptr, nullptr),
        "EC key: cannot write PEM");
  return bio_text(bio.get());
}

nlohmann::json EcKey::jwk() const {
  EVP_PKEY* key = held();
  return {{"crv", "P-256"},
          {"kty", "EC"},
          {"x", base64url(padded_number(key, OSSL_PKEY_PARAM_EC_PUB_X))},
          {"y", base64url(padded_number(key, OSSL_PKEY_PARAM_EC_PUB_Y))}};
}

std::string EcKey::thumbprint() const {
  nlohmann::json key = jwk();
  // RFC 7638 3.2: the required members only, in lexicographic order, no
  // whitespace. Written out rather than left to a JSON library's key order.
  std::string canonical = R"({"crv":"P-256","kty":"EC","x":")" + key["x"].get<std::string>() + R"(","y":")" +
                          key["y"].get<std::string>() + R"("})";
  return base64url(sha256(canonical));
}

std::string EcKey::sign_es256(std::string_view data) const {
  MdCtx context(check(EVP_MD_CTX_new(), "EVP_MD_CTX_new"));
  check(EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, held()), "ES256: EVP_DigestSignInit");
  size_t length = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  check(EVP_DigestSign(context.get(), nullptr, &length, bytes, data.size()), "ES256: signature size");
  std::string der(length, '\0');
  check(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(der.data()), &length, bytes, data.size()),
        "ES256: EVP_DigestSign");

  // OpenSSL gives the DER ECDSA-Sig-Value (SEQUENCE of r, s); JWS wants r and
  // s as two 32-byte big-endian numbers side by side (RFC 7518 3.4).
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSig signature(check(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(length)), "ES256: d2i_ECDSA_SIG"));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(signature.get(), &r, &s);
  std::string raw(2 * kCoordinateBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kCoordinateBytes) < 0 || BN_bn2binpad(s, out + kCoordinateBytes, kCoordinateBytes) < 0) {
    fail("ES256: r or s does not fit 32 bytes");
  }
  return raw;
}

}  // namespace lb::acme
