#include "lb/http/request_id.h"

#include <openssl/rand.h>

#include <random>

namespace lb {

std::string random_request_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // OpenSSL could not seed itself: ask the kernel directly (getrandom).
    std::random_device kernel;
    for (auto& byte : bytes) byte = static_cast<unsigned char>(kernel());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (size_t i = 0; i < sizeof bytes; ++i) {
    id[2 * i] = kHex[bytes[i] >> 4];
    id[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return id;
}

}  // namespace lb
