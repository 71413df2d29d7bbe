#include "lb/acme/acme_settings.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace lb::acme {

namespace {

// RFC 1035 host names, lower case: labels of letters, digits and inner
// hyphens, at least two labels (the ACME server refuses bare names).
bool is_dns_name(const std::string& name) {
  if (name.empty() || name.size() > 253 || name.find('.') == std::string::npos) return false;
  size_t start = 0;
  for (;;) {
    const size_t end = std::min(name.find('.', start), name.size());
    const std::string label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (unsigned char c : label) {
      if (!(std::islower(c) || std::isdigit(c) || c == '-')) return false;
    }
    if (end == name.size()) return true;
    start = end + 1;
  }
}

// The number of PEM certificates in `path`, or -1 with errno when it cannot be read.
int count_certificates(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return -1;
  int count = 0;
  while (X509* cert = PEM_read_X509(file, nullptr, nullptr, nullptr)) {
    X509_free(cert);
    ++count;
  }
  ERR_clear_error();
  std::fclose(file);
  return count;
}

}  // namespace

std::string acme_settings_problem(const AcmeSettings& settings) {
  for (const std::string& name : settings.names) {
    if (name.rfind("*.", 0) == 0) {
      return "--acme-domain " + name + ": wildcards need the DNS-01 challenge, which this load balancer does not answer";
    }
    if (!is_dns_name(name)) return "--acme-domain " + name + ": not a DNS name (lower case, like www.example.com)";
  }
  const std::string& url = settings.directory_url;
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
    return "--acme-directory " + url + ": not an http(s) URL";
  }
  const std::string& email = settings.email;
  if (!email.empty() && (std::count(email.begin(), email.end(), '@') != 1 || email.front() == '@' ||
                         email.back() == '@' || email.find_first_of(" ,;<>\"") != std::string::npos)) {
    return "--acme-email " + email + ": not an e-mail address";
  }
  if (!settings.ca_file.empty()) {
    const int certificates = count_certificates(settings.ca_file);
    if (certificates < 0) return "--acme-ca " + settings.ca_file + ": " + std::strerror(errno);
    if (certificates == 0) return "--acme-ca " + settings.ca_file + ": no PEM certificates";
  }
  return "";
}

}  // namespace lb::acme
