#include "lb/balancing/sticky_sessions.h"

#include "common/http_text.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <vector>

namespace lb {

namespace {

std::string hex(const unsigned char* bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 15]);
  }
  return out;
}

// Calls visit(name, value, whole_pair) for each "name=value" in a Cookie header.
template <typename Visit>
void for_each_cookie(std::string_view header, Visit visit) {
  while (!header.empty()) {
    size_t semicolon = header.find(';');
    std::string_view pair = common::trim_ows(header.substr(0, semicolon));
    size_t equals = pair.find('=');
    if (!pair.empty()) {
      visit(equals == std::string_view::npos ? pair : pair.substr(0, equals),
            equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1), pair);
    }
    if (semicolon == std::string_view::npos) break;
    header.remove_prefix(semicolon + 1);
  }
}

}  // namespace

StickySessions::StickySessions(std::string cookie_name, const BackendList& backends, const std::string& secret)
    : cookie_name_(std::move(cookie_name)) {
  // Key: the secret plus the sorted backend URLs, so the order of flags does not matter.
  std::vector<std::string> urls;
  for (const auto& backend : backends) urls.push_back(backend->url);
  std::sort(urls.begin(), urls.end());
  std::string key = secret;
  for (const auto& url : urls) key += "\n" + url;

  for (const auto& backend : backends) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(backend->url.data()), backend->url.size(), mac, &mac_length);
    std::string value = hex(mac, 12);  // 96 bits: unguessable, still a short cookie
    by_value_[value] = backend;
    value_by_backend_[backend.get()] = value;
  }
}

std::shared_ptr<Backend> StickySessions::backend_for(std::string_view cookie_value) const {
  auto found = by_value_.find(std::string(cookie_value));
  return found == by_value_.end() ? nullptr : found->second;
}

const std::string& StickySessions::cookie_value(const Backend& backend) const {
  return value_by_backend_.at(&backend);
}

std::string StickySessions::set_cookie_value(const Backend& backend, bool secure) const {
  return cookie_name_ + "=" + cookie_value(backend) + "; Path=/; HttpOnly" + (secure ? "; Secure" : "");
}

std::string_view StickySessions::find_in(std::string_view cookie_header) const {
  std::string_view found;
  for_each_cookie(cookie_header, [&](std::string_view name, std::string_view value, std::string_view) {
    if (name == cookie_name_ && found.empty()) found = value;
  });
  return found;
}

std::string StickySessions::strip_from(std::string_view cookie_header) const {
  std::string kept;
  for_each_cookie(cookie_header, [&](std::string_view name, std::string_view, std::string_view pair) {
    if (name == cookie_name_) return;
    if (!kept.empty()) kept += "; ";
    kept.append(pair);
  });
  return kept;
}

}  // namespace lb
