// base64url, SHA-256 and the JWS that signs every ACME request (RFC 8555 6.2).
#include "lb/acme/acme_crypto.h"

#include <array>
#include <stdexcept>

#include "lb/acme/openssl_handles.h"

namespace lb::acme {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Each character's 6-bit value, or -1 outside the base64url alphabet.
constexpr std::array<int, 256> decoding_table() {
  std::array<int, 256> table{};
  for (int& value : table) value = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = i;
  return table;
}
constexpr std::array<int, 256> kDecoding = decoding_table();

}  // namespace

std::string base64url(std::string_view bytes) {
  std::string text;
  text.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  // Three bytes become four characters; a last group of one or two bytes
  // becomes two or three characters, without the '=' padding (RFC 7515 2).
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned group = static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8 |
                     static_cast<unsigned char>(bytes[i + 2]);
    text += kAlphabet[group >> 18 & 63];
    text += kAlphabet[group >> 12 & 63];
    text += kAlphabet[group >> 6 & 63];
    text += kAlphabet[group & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned group = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) group |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    text += kAlphabet[group >> 18 & 63];
    text += kAlphabet[group >> 12 & 63];
    if (rest == 2) text += kAlphabet[group >> 6 & 63];
  }
  return text;
}

std::string base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) throw std::runtime_error("base64url: impossible length " + std::to_string(text.size()));
  std::string bytes;
  bytes.reserve(text.size() * 3 / 4);
  unsigned bits = 0;
  int bit_count = 0;
  for (char c : text) {
    int value = kDecoding[static_cast<unsigned char>(c)];
    if (value < 0) throw std::runtime_error(std::string("base64url: unexpected character '") + c + "'");
    bits = (bits << 6 | static_cast<unsigned>(value)) & 0xFFFFFF;
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      bytes += static_cast<char>(bits >> bit_count & 0xFF);
    }
  }
  return bytes;
}

std::string sha256(std::string_view bytes) {
  std::string digest(32, '\0');
  unsigned int length = 0;
  detail::check(EVP_Digest(bytes.data(), bytes.size(), reinterpret_cast<unsigned char*>(digest.data()), &length,
                           EVP_sha256(), nullptr),
                "SHA-256");
  return digest;
}

std::string jws(const EcKey& key, const std::string& kid, const std::string& nonce, const std::string& url,
                const std::string& payload) {
  // RFC 8555 6.2: "jwk" only on newAccount (and revocation by certificate
  // key), "kid" (the account URL) on everything else, never both.
  nlohmann::json header = {{"alg", "ES256"}, {"nonce", nonce}, {"url", url}};
  if (kid.empty()) {
    header["jwk"] = key.jwk();
  } else {
    header["kid"] = kid;
  }
  std::string protected_b64 = base64url(header.dump());
  // POST-as-GET (RFC 8555 6.3) sends the empty string as the payload, which
  // base64url leaves empty: "" and not "e30" (the encoding of "{}").
  std::string payload_b64 = base64url(payload);
  std::string signature = key.sign_es256(protected_b64 + "." + payload_b64);
  nlohmann::json flattened = {
      {"protected", protected_b64}, {"payload", payload_b64}, {"signature", base64url(signature)}};
  return flattened.dump();
}

}  // namespace lb::acme
