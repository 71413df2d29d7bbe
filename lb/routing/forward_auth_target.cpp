#include "lb/routing/forward_auth_target.h"

#include <stdexcept>

namespace lb {

std::shared_ptr<ForwardAuthTarget> make_forward_auth_target(const std::string& url,
                                                            std::vector<std::string> copy_headers, Millis timeout) {
  constexpr std::string_view kScheme = "http://";
  if (url.compare(0, kScheme.size(), kScheme) != 0) {
    throw std::invalid_argument("'" + url + "': use an http:// URL");
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f || c == '#') throw std::invalid_argument("'" + url + "': spaces, control bytes or '#'");
  }
  auto target = std::make_shared<ForwardAuthTarget>();
  target->url = url;
  target->copy_headers = std::move(copy_headers);
  target->timeout = timeout;
  const std::string rest = url.substr(kScheme.size());
  const size_t path_start = rest.find_first_of("/?");
  std::string authority = rest.substr(0, path_start);
  target->target = path_start == std::string::npos ? "/" : rest.substr(path_start);
  if (target->target.front() == '?') target->target.insert(0, "/");
  if (authority.find('@') != std::string::npos) throw std::invalid_argument("'" + url + "': no user info in the URL");
  target->host_header = authority;
  std::string port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) throw std::invalid_argument("'" + url + "': unclosed '['");
    target->host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') throw std::invalid_argument("'" + url + "': bad port");
      has_port = true;
      port_text = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.find(':');
    target->host = authority.substr(0, colon);
    has_port = colon != std::string::npos;
    if (has_port) port_text = authority.substr(colon + 1);
  }
  if (target->host.empty()) throw std::invalid_argument("'" + url + "': no host");
  if (has_port) {
    if (port_text.empty() || port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port_text) < 1 || std::stoi(port_text) > 65535) {
      throw std::invalid_argument("'" + url + "': bad port");
    }
    target->port = static_cast<uint16_t>(std::stoi(port_text));
  }
  return target;
}

}  // namespace lb
