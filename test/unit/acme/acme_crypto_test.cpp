// lb/acme/acme_crypto.h against published vectors (RFC 4648, RFC 7515 A.3,
// RFC 7638's construction) and against OpenSSL reading back what it made.
#include <catch2/catch.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "lb/acme/acme_crypto.h"

using namespace lb::acme;
using namespace std::chrono_literals;

namespace {

// RFC 7515 Appendix A.3: the P-256 key and the ES256 JWS made with it.
const std::string kA3X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const std::string kA3Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const std::string kA3D = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
const std::string kA3SigningInput =
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const std::string kA3Signature =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

EcKey rfc7515_key() { return EcKey::from_jwk_private(kA3X, kA3Y, kA3D); }

std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : bytes) {
    out += digits[byte >> 4];
    out += digits[byte & 15];
  }
  return out;
}

// An ES256 signature checked the way a CA does: raw r||s back to a DER
// ECDSA-Sig-Value, then OpenSSL's verify over SHA-256.
bool verify_es256(EVP_PKEY* key, const std::string& data, const std::string& raw) {
  if (raw.size() != 64) return false;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG* signature = ECDSA_SIG_new();
  ECDSA_SIG_set0(signature, BN_bin2bn(bytes, 32, nullptr), BN_bin2bn(bytes + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int der_length = i2d_ECDSA_SIG(signature, &der);
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  int result = EVP_DigestVerifyInit(context, nullptr, EVP_sha256(), nullptr, key);
  if (result == 1) {
    result = EVP_DigestVerify(context, der, static_cast<size_t>(der_length),
                              reinterpret_cast<const unsigned char*>(data.data()), data.size());
  }
  EVP_MD_CTX_free(context);
  OPENSSL_free(der);
  ECDSA_SIG_free(signature);
  ERR_clear_error();
  return result == 1;
}

X509* read_certificate(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return certificate;
}

std::vector<std::string> dns_names(GENERAL_NAMES* names) {
  std::vector<std::string> out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    REQUIRE(name->type == GEN_DNS);
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                     static_cast<size_t>(ASN1_STRING_length(name->d.dNSName)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string common_name(X509_NAME* subject) {
  char buffer[256] = {};
  int length = X509_NAME_get_text_by_NID(subject, NID_commonName, buffer, sizeof buffer);
  return length < 0 ? "" : std::string(buffer, static_cast<size_t>(length));
}

// What `openssl req -verify` says of a CSR written to a temp file. Its exit
// status is 0 even on a bad signature (OpenSSL 3.0), so the words are read.
std::string openssl_verify_csr(const std::string& der) {
  char path[] = "/tmp/lb_acme_csr_XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path, std::ios::binary) << der;
  std::string command = "openssl req -inform DER -in " + std::string(path) + " -verify -noout 2>&1";
  std::string output;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
    ::pclose(pipe);
  }
  ::unlink(path);
  return output;
}

double seconds_between(std::chrono::system_clock::time_point a, std::chrono::system_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

// RFC 4648 section 10's vectors, in the URL-safe alphabet and without padding.
TEST_CASE("acme: base64url encodes RFC 4648's vectors without padding", "[unit][acme]") {
  CHECK(base64url("") == "");
  CHECK(base64url("f") == "Zg");
  CHECK(base64url("fo") == "Zm8");
  CHECK(base64url("foo") == "Zm9v");
  CHECK(base64url("foob") == "Zm9vYg");
  CHECK(base64url("fooba") == "Zm9vYmE");
  CHECK(base64url("foobar") == "Zm9vYmFy");
  // Standard base64 would give "+/8=", "++++" and "////".
  CHECK(base64url(std::string("\xfb\xff", 2)) == "-_8");
  CHECK(base64url(std::string("\xfb\xef\xbe", 3)) == "----");
  CHECK(base64url(std::string("\xff\xff\xff", 3)) == "____");
  CHECK(base64url(std::string("\0\0", 2)) == "AAA");
}

// Decoding undoes encoding, takes padding, refuses what is not base64url.
TEST_CASE("acme: base64url_decode round-trips and refuses bad input", "[unit][acme]") {
  for (const std::string& bytes : {std::string(), std::string("f"), std::string("foobar"),
                                   std::string("\xfb\xff\x00\x01", 4)}) {
    CHECK(base64url_decode(base64url(bytes)) == bytes);
  }
  CHECK(base64url_decode("Zm9vYg==") == "foob");
  CHECK_THROWS_WITH(base64url_decode("Zm9v+g"), Catch::Contains("unexpected character '+'"));
  CHECK_THROWS_WITH(base64url_decode("Zm9vY"), Catch::Contains("impossible length"));
}

// FIPS 180-2's "abc" example.
TEST_CASE("acme: sha256 gives the raw 32-byte digest", "[unit][acme]") {
  CHECK(sha256("abc").size() == 32);
  CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// The RFC's key gives back the RFC's coordinates, and the RFC's own signature verifies with it.
TEST_CASE("acme: RFC 7515 A.3 key: JWK coordinates and the RFC's ES256 signature", "[unit][acme]") {
  EcKey key = rfc7515_key();
  nlohmann::json jwk = key.jwk();
  CHECK(jwk == nlohmann::json{{"crv", "P-256"}, {"kty", "EC"}, {"x", kA3X}, {"y", kA3Y}});
  CHECK(jwk.dump() == R"({"crv":"P-256","kty":"EC","x":")" + kA3X + R"(","y":")" + kA3Y + R"("})");
  CHECK(verify_es256(key.native(), kA3SigningInput, base64url_decode(kA3Signature)));
  CHECK_FALSE(verify_es256(key.native(), kA3SigningInput + "x", base64url_decode(kA3Signature)));
}

// ECDSA is randomised: our signatures are checked by verifying, not by comparing with the RFC's.
TEST_CASE("acme: sign_es256 gives 64 raw bytes that verify", "[unit][acme]") {
  EcKey key = rfc7515_key();
  std::string first = key.sign_es256(kA3SigningInput);
  std::string second = key.sign_es256(kA3SigningInput);
  CHECK(first.size() == 64);
  CHECK(second.size() == 64);
  CHECK(verify_es256(key.native(), kA3SigningInput, first));
  CHECK(verify_es256(key.native(), kA3SigningInput, second));
  CHECK_FALSE(verify_es256(key.native(), "something else", first));
  CHECK_FALSE(verify_es256(EcKey::generate().native(), kA3SigningInput, first));
}

// RFC 7638 3: SHA-256 over the required members in order without spaces; its
// own example is RSA, so the A.3 key's canonical form is written out here, and
// a second P-256 key is checked against the thumbprint published with it.
TEST_CASE("acme: thumbprint follows RFC 7638 for P-256 keys", "[unit][acme]") {
  std::string canonical = R"({"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
                          R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";
  CHECK(rfc7515_key().thumbprint() == base64url(sha256(canonical)));
  CHECK(rfc7515_key().thumbprint().size() == 43);

  EcKey published = EcKey::from_jwk_private("V8ctRWc2deLSjfOjqQm7-m33SinduQbKJVgSHFj7ZxQ",
                                            "svjg0e-iAe5zElQhfqqagr4-S8k3WWgzz6JDPmRE_bk",
                                            "C-5QLfqkE0pffZfp3tA5TfS06haBEWrW13VNwqmv4uc");
  CHECK(hex(base64url_decode(published.thumbprint())) ==
        "1235335bd15b2c75f3e84f4c681d85cbc059c00d7910d1bad0690a2af566aaf8");
}

// A private key that is not the public key's half is refused, not signed with.
TEST_CASE("acme: from_jwk_private refuses a d that does not match x, y", "[unit][acme]") {
  std::string other_d = "C-5QLfqkE0pffZfp3tA5TfS06haBEWrW13VNwqmv4uc";
  CHECK_THROWS_WITH(EcKey::from_jwk_private(kA3X, kA3Y, other_d), Catch::Contains("not an EC P-256 private key"));
  CHECK_THROWS_WITH(EcKey::from_jwk_private(kA3X, kA3Y, "AAAA"), Catch::Contains("32 bytes"));
  CHECK(ERR_peek_error() == 0);
}

// newAccount's shape: jwk in the protected header, no kid; the signature covers protected.payload.
TEST_CASE("acme: jws with the key's JWK (no account yet)", "[unit][acme]") {
  EcKey key = EcKey::generate();
  std::string payload = R"({"termsOfServiceAgreed":true})";
  auto body = nlohmann::json::parse(jws(key, "", "nonce-1", "https://ca.test/new-account", payload));
  CHECK(body.size() == 3);
  auto header = nlohmann::json::parse(base64url_decode(body["protected"].get<std::string>()));
  CHECK(header["alg"] == "ES256");
  CHECK(header["nonce"] == "nonce-1");
  CHECK(header["url"] == "https://ca.test/new-account");
  CHECK(header["jwk"] == key.jwk());
  CHECK_FALSE(header.contains("kid"));
  CHECK(base64url_decode(body["payload"].get<std::string>()) == payload);
  std::string signing_input = body["protected"].get<std::string>() + "." + body["payload"].get<std::string>();
  CHECK(verify_es256(key.native(), signing_input, base64url_decode(body["signature"].get<std::string>())));
}

// Every later request: kid (the account URL), no jwk; POST-as-GET's payload stays "".
TEST_CASE("acme: jws with a kid, and POST-as-GET's empty payload", "[unit][acme]") {
  EcKey key = EcKey::generate();
  std::string kid = "https://ca.test/acct/17";
  auto body = nlohmann::json::parse(jws(key, kid, "nonce-2", "https://ca.test/order/5", ""));
  auto header = nlohmann::json::parse(base64url_decode(body["protected"].get<std::string>()));
  CHECK(header ==
        nlohmann::json{{"alg", "ES256"}, {"kid", kid}, {"nonce", "nonce-2"}, {"url", "https://ca.test/order/5"}});
  CHECK(body["payload"] == "");
  std::string signing_input = body["protected"].get<std::string>() + ".";
  CHECK(verify_es256(key.native(), signing_input, base64url_decode(body["signature"].get<std::string>())));
}

// The CSR read back: self-signature, CN, SANs; and `openssl req -verify` agrees.
TEST_CASE("acme: csr_der is a signed PKCS#10 request for exactly the names", "[unit][acme]") {
  EcKey key = EcKey::generate();
  std::vector<std::string> names = {"example.test", "www.example.test", "api.example.test"};
  std::string der = csr_der(key, names);

  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  X509_REQ* request = d2i_X509_REQ(nullptr, &cursor, static_cast<long>(der.size()));
  REQUIRE(request != nullptr);
  CHECK(cursor == reinterpret_cast<const unsigned char*>(der.data()) + der.size());
  CHECK(X509_REQ_verify(request, key.native()) == 1);
  CHECK(X509_REQ_verify(request, EcKey::generate().native()) != 1);
  CHECK(common_name(X509_REQ_get_subject_name(request)) == "example.test");
  STACK_OF(X509_EXTENSION)* extensions = X509_REQ_get_extensions(request);
  REQUIRE(extensions != nullptr);
  auto* sans = static_cast<GENERAL_NAMES*>(X509V3_get_d2i(extensions, NID_subject_alt_name, nullptr, nullptr));
  REQUIRE(sans != nullptr);
  CHECK(dns_names(sans) == names);
  sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
  X509_REQ_free(request);
  ERR_clear_error();

  CHECK_THAT(openssl_verify_csr(der), Catch::Contains("verify OK"));
  std::string broken = der;
  broken.back() = static_cast<char>(broken.back() ^ 1);  // inside the signature
  CHECK_THAT(openssl_verify_csr(broken), Catch::Contains("verify failure"));
}

// A name too long for a CN still gets a valid CSR, named by its SAN alone.
TEST_CASE("acme: csr_der leaves out a CN longer than 64 bytes, no names is refused", "[unit][acme]") {
  EcKey key = EcKey::generate();
  std::string long_name = std::string(60, 'a') + ".example.test";
  std::string der = csr_der(key, {long_name});
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  X509_REQ* request = d2i_X509_REQ(nullptr, &cursor, static_cast<long>(der.size()));
  REQUIRE(request != nullptr);
  CHECK(X509_NAME_entry_count(X509_REQ_get_subject_name(request)) == 0);
  X509_REQ_free(request);
  CHECK_THAT(openssl_verify_csr(der), Catch::Contains("verify OK"));
  CHECK_THROWS_WITH(csr_der(key, {}), Catch::Contains("no names"));
}

// RFC 8737 3: one dNSName, and the critical acmeIdentifier holding
// OCTET STRING(SHA-256(key authorization)) as its extnValue.
TEST_CASE("acme: tls_alpn_challenge_certificate carries the key authorization's digest", "[unit][acme]") {
  std::string token = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
  std::string key_authorization = token + "." + rfc7515_key().thumbprint();
  PemPair pair = tls_alpn_challenge_certificate("example.test", key_authorization);

  X509* certificate = read_certificate(pair.certificate);
  REQUIRE(certificate != nullptr);
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
  int index = X509_get_ext_by_OBJ(certificate, oid, -1);
  ASN1_OBJECT_free(oid);
  REQUIRE(index >= 0);
  X509_EXTENSION* extension = X509_get_ext(certificate, index);
  CHECK(X509_EXTENSION_get_critical(extension) == 1);
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(extension);
  std::string value_der(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                        static_cast<size_t>(ASN1_STRING_length(value)));
  CHECK(value_der == std::string("\x04\x20", 2) + sha256(key_authorization));  // OCTET STRING, 32 bytes

  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  REQUIRE(sans != nullptr);
  CHECK(dns_names(sans) == std::vector<std::string>{"example.test"});
  CHECK(X509_verify(certificate, X509_get0_pubkey(certificate)) == 1);  // self-signed
  X509_free(certificate);
  ERR_clear_error();

  EcKey key = EcKey::from_pem(pair.key);
  CHECK(certificate_matches_key(pair.certificate, key));
  Validity validity = certificate_validity(pair.certificate);
  auto now = std::chrono::system_clock::now();
  CHECK(validity.not_before <= now);
  CHECK(validity.not_after > now + 24h);
}

// The placeholder lasts what was asked, names the host, and its key is the one returned.
TEST_CASE("acme: self_signed_certificate honours the lifetime, validity reads it back", "[unit][acme]") {
  auto now = std::chrono::system_clock::now();
  PemPair pair = self_signed_certificate("placeholder.example.test", 90 * 24h);
  Validity validity = certificate_validity(pair.certificate);
  CHECK(std::abs(seconds_between(now, validity.not_before)) < 60);
  CHECK(std::abs(seconds_between(now + 90 * 24h, validity.not_after)) < 60);

  X509* certificate = read_certificate(pair.certificate);
  REQUIRE(certificate != nullptr);
  CHECK(common_name(X509_get_subject_name(certificate)) == "placeholder.example.test");
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  REQUIRE(sans != nullptr);
  CHECK(dns_names(sans) == std::vector<std::string>{"placeholder.example.test"});
  X509_free(certificate);

  CHECK(certificate_matches_key(pair.certificate, EcKey::from_pem(pair.key)));
  CHECK_FALSE(certificate_matches_key(pair.certificate, EcKey::generate()));
  // A chain: the first certificate is the one read.
  PemPair other = self_signed_certificate("other.example.test", 1h);
  CHECK(certificate_matches_key(pair.certificate + other.certificate, EcKey::from_pem(pair.key)));
  Validity of_chain = certificate_validity(pair.certificate + other.certificate);
  CHECK(of_chain.not_after == validity.not_after);
  CHECK(ERR_peek_error() == 0);
}

// Not a certificate: a clear error for validity, "no match" for the key check.
TEST_CASE("acme: garbage PEM: certificate_validity throws, certificate_matches_key is false", "[unit][acme]") {
  CHECK_THROWS_WITH(certificate_validity("not a certificate"), Catch::Contains("no PEM certificate"));
  CHECK_THROWS_WITH(certificate_validity(""), Catch::Contains("no PEM certificate"));
  CHECK_FALSE(certificate_matches_key("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                                      EcKey::generate()));
  CHECK(ERR_peek_error() == 0);
}

// The stored account key comes back the same key; PKCS#8 on the way out.
TEST_CASE("acme: EcKey PEM round trip", "[unit][acme]") {
  EcKey key = EcKey::generate();
  std::string pem = key.private_pem();
  CHECK(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
  EcKey again = EcKey::from_pem(pem);
  CHECK(again.jwk() == key.jwk());
  CHECK(again.thumbprint() == key.thumbprint());
  CHECK(verify_es256(key.native(), "data", again.sign_es256("data")));
  CHECK(EcKey::from_pem(rfc7515_key().private_pem()).jwk()["x"] == kA3X);
  EcKey copy = key;  // copies share the key
  CHECK(copy.native() == key.native());
}

// What an operator might drop into the state folder by mistake is refused with the reason.
TEST_CASE("acme: EcKey::from_pem refuses RSA, other curves and garbage", "[unit][acme]") {
  auto pem_of = [](EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long length = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(length));
    BIO_free(bio);
    EVP_PKEY_free(key);
    return pem;
  };
  std::string rsa = pem_of(EVP_RSA_gen(2048));
  CHECK_THROWS_WITH(EcKey::from_pem(rsa), Catch::StartsWith("not an EC P-256 private key") && Catch::Contains("RSA"));
  std::string p384 = pem_of(EVP_EC_gen("P-384"));
  CHECK_THROWS_WITH(EcKey::from_pem(p384), Catch::StartsWith("not an EC P-256 private key") &&
                                               Catch::Contains("secp384r1"));
  CHECK_THROWS_WITH(EcKey::from_pem("garbage"), Catch::StartsWith("not an EC P-256 private key"));
  CHECK(ERR_peek_error() == 0);
}

// A default EcKey is a clear programming error, not a crash.
TEST_CASE("acme: a default-constructed EcKey holds no key", "[unit][acme]") {
  EcKey empty;
  CHECK(empty.native() == nullptr);
  CHECK_THROWS_AS(empty.jwk(), std::logic_error);
  CHECK_THROWS_AS(empty.sign_es256("x"), std::logic_error);
  CHECK_THROWS_AS(csr_der(empty, {"example.test"}), std::logic_error);
}
