#include "lb/acme/acme_http.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>

#include "common/http_client_error.h"

namespace lb::acme {

namespace {

constexpr auto kTimeout = std::chrono::seconds(10);

struct SplitUrl {
  std::string origin;  // scheme://host[:port]
  std::string path;    // from the first '/' after the host, "/" when none
};

SplitUrl split(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (path_start == std::string::npos) return {url, "/"};
  return {url.substr(0, path_start), url.substr(path_start)};
}

class HttplibAcmeHttp : public AcmeHttp {
 public:
  explicit HttplibAcmeHttp(std::string ca_file) : ca_file_(std::move(ca_file)) {}

  AcmeResponse get(const std::string& url) override {
    return send(url, [](httplib::Client& client, const std::string& path) { return client.Get(path.c_str()); });
  }
  AcmeResponse head(const std::string& url) override {
    return send(url, [](httplib::Client& client, const std::string& path) { return client.Head(path.c_str()); });
  }
  AcmeResponse post_jose(const std::string& url, const std::string& body) override {
    return send(url, [&body](httplib::Client& client, const std::string& path) {
      // RFC 8555 7.4.2: a certificate is asked for as a PEM chain.
      httplib::Headers headers{{"Accept", "application/pem-certificate-chain, application/json"}};
      return client.Post(path.c_str(), headers, body, "application/jose+json");
    });
  }

 private:
  template <typename Send>
  AcmeResponse send(const std::string& url, Send&& send_request) {
    const SplitUrl parts = split(url);
    httplib::Client client(parts.origin);
    if (!client.is_valid()) throw AcmeError("not an http(s) URL: " + url);
    client.enable_server_certificate_verification(true);
    if (!ca_file_.empty()) client.set_ca_cert_path(ca_file_.c_str());
    client.set_connection_timeout(kTimeout);
    client.set_read_timeout(kTimeout);
    client.set_write_timeout(kTimeout);
    client.set_keep_alive(false);
    httplib::Result result = send_request(client, parts.path);
    if (!result) throw AcmeError("cannot reach " + parts.origin + ": " + common::describe_client_error(result.error()) +
                                  (result.error() == httplib::Error::SSLServerVerification ? " (see --acme-ca)" : ""));
    AcmeResponse response;
    response.status = result->status;
    response.body = result->body;
    for (const auto& [name, value] : result->headers) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      response.headers.emplace(std::move(lower), value);
    }
    return response;
  }

  std::string ca_file_;
};

}  // namespace

std::unique_ptr<AcmeHttp> make_acme_http(const std::string& ca_file) {
  return std::make_unique<HttplibAcmeHttp>(ca_file);
}

std::chrono::seconds parse_retry_after(const std::string& value, std::chrono::system_clock::time_point now) {
  if (value.empty()) return std::chrono::seconds(0);
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return value.size() > 9 ? std::chrono::seconds(0) : std::chrono::seconds(std::stol(value));
  }
  std::tm date{};
  const char* end = ::strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &date);
  if (end == nullptr || *end != '\0') return std::chrono::seconds(0);
  const auto at = std::chrono::system_clock::from_time_t(::timegm(&date));
  return at > now ? std::chrono::duration_cast<std::chrono::seconds>(at - now) : std::chrono::seconds(0);
}

}  // namespace lb::acme
