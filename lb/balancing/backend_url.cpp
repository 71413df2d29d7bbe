#include "lb/balancing/backend_url.h"

#include <stdexcept>

namespace lb {

namespace {

int parse_int_in_range(const std::string& digits, int low, int high, const std::string& what) {
  if (digits.empty() || digits.size() > 6 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    throw std::invalid_argument(what + " must be a number, got '" + digits + "'");
  }
  int value = std::stoi(digits);
  if (value < low || value > high) {
    throw std::invalid_argument(what + " must be " + std::to_string(low) + "-" +
                                std::to_string(high) + ", got " + digits);
  }
  return value;
}

}  // namespace

std::string BackendSpec::url() const {
  bool ipv6 = host.find(':') != std::string::npos;
  return scheme + "://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

BackendSpec parse_backend_spec(const std::string& text) {
  BackendSpec spec;
  std::string url = text;
  auto comma = text.find(',');
  if (comma != std::string::npos) url = text.substr(0, comma);
  while (comma != std::string::npos) {
    const auto next = text.find(',', comma + 1);
    const std::string option = text.substr(comma + 1, next == std::string::npos ? std::string::npos : next - comma - 1);
    comma = next;
    const std::string weight = "weight=", limit = "max_requests=", drain = "drain=";
    if (option.compare(0, weight.size(), weight) == 0) {
      spec.weight = parse_int_in_range(option.substr(weight.size()), 1, kMaxBackendWeight, "weight");
    } else if (option.compare(0, limit.size(), limit) == 0) {
      spec.max_requests = RequestLimit::parse(option.substr(limit.size()));
      if (!spec.max_requests) {
        throw std::invalid_argument("max_requests in '" + text + "' must be 0-100000 or auto");
      }
    } else if (option == drain + "true" || option == drain + "false") {
      spec.draining = option == drain + "true";
    } else {
      throw std::invalid_argument("unknown backend option '" + option + "' in '" + text +
                                  "' (expected weight=N, max_requests=N|auto or drain=true|false)");
    }
  }

  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    throw std::invalid_argument("backend URL '" + url + "' must start with http:// or https://");
  }
  spec.scheme = url.substr(0, scheme_end);
  if (spec.scheme != "http" && spec.scheme != "https") {
    throw std::invalid_argument("backend URL '" + url + "' has unsupported scheme '" +
                                spec.scheme + "' (use http or https)");
  }
  std::string authority = url.substr(scheme_end + 3);
  if (!authority.empty() && authority.back() == '/') authority.pop_back();
  if (authority.find('/') != std::string::npos) {
    throw std::invalid_argument("backend URL '" + url + "' must not have a path");
  }

  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) {
      throw std::invalid_argument("backend URL '" + url + "' has an unclosed IPv6 bracket");
    }
    spec.host = authority.substr(1, close - 1);
    std::string rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        throw std::invalid_argument("backend URL '" + url + "' has junk after the host");
      }
      port_text = rest.substr(1);
      if (port_text.empty()) throw std::invalid_argument("backend URL '" + url + "' has an empty port");
    }
  } else {
    auto colon = authority.rfind(':');
    spec.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) throw std::invalid_argument("backend URL '" + url + "' has an empty port");
    }
    if (spec.host.find(':') != std::string::npos) {
      throw std::invalid_argument("backend URL '" + url + "': put IPv6 addresses in brackets");
    }
  }
  if (spec.host.empty()) throw std::invalid_argument("backend URL '" + url + "' has no host");
  if (spec.host.find_first_of(" @?#") != std::string::npos) {
    throw std::invalid_argument("backend URL '" + url + "' has an invalid host");
  }
  spec.port = port_text.empty() ? (spec.scheme == "https" ? 443 : 80)
                                : static_cast<uint16_t>(parse_int_in_range(port_text, 1, 65535, "port"));
  return spec;
}

}  // namespace lb
