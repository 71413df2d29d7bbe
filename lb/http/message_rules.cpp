#include "lb/http/message_rules.h"

#include "lb/http/http_headers.h"

namespace lb {

namespace {

using common::trim_ows;

// Headers that decide where a message ends or which service it is for.
constexpr std::string_view kFramingHeaders[] = {"Content-Length", "Transfer-Encoding", "Host", "Connection"};

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Whether `name` has the letters of `real` in order, ignoring case, and
// begins and ends with a letter (so only what lies between letters differs).
bool same_letters(std::string_view name, std::string_view real) {
  if (name.empty() || !is_letter(name.front()) || !is_letter(name.back())) return false;
  size_t r = 0;
  for (char c : name) {
    if (!is_letter(c)) continue;
    while (r < real.size() && !is_letter(real[r])) ++r;
    if (r == real.size() || lower(c) != lower(real[r])) return false;
    ++r;
  }
  while (r < real.size() && !is_letter(real[r])) ++r;
  return r == real.size();
}

bool is_framing_header(std::string_view name) {
  for (std::string_view real : kFramingHeaders) {
    if (iequals(name, real)) return true;
  }
  return false;
}

// The field-name rules both directions and trailers share: a token, not
// disguising a framing header. Empty when fine.
std::string check_name(std::string_view name, const char* what) {
  if (!is_token(name)) return std::string("invalid ") + what + " name";
  std::string_view disguised = disguised_framing_name(name);
  if (!disguised.empty()) return std::string(what) + " name " + std::string(name) + " imitates " + std::string(disguised);
  return "";
}

// A head's field: check_name(), and no obs-fold inside a framing header.
std::string check_field_name(const MessageHead& head, size_t i) {
  std::string_view name = head.name(i);
  std::string problem = check_name(name, "header");
  if (!problem.empty()) return problem;
  if (head.fields[i].folded && is_framing_header(name)) return "line folding in the " + std::string(name) + " header";
  return "";
}

bool is_hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool is_reg_name_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=").find(c) != std::string_view::npos;  // unreserved, sub-delims
}

bool starts_with_scheme(std::string_view target, std::string_view scheme_and_slashes) {
  return target.size() >= scheme_and_slashes.size() &&
         iequals(target.substr(0, scheme_and_slashes.size()), scheme_and_slashes);
}

// For an absolute-form target ("http://host:port/path?q"), its authority;
// `absolute` says whether the target had that form.
std::string_view absolute_authority(std::string_view target, bool& absolute) {
  size_t prefix = starts_with_scheme(target, "http://") ? 7 : starts_with_scheme(target, "https://") ? 8 : 0;
  absolute = prefix != 0;
  if (!absolute) return {};
  std::string_view rest = target.substr(prefix);
  return rest.substr(0, rest.find_first_of("/?#"));
}

Refusal refuse(int status, std::string reason) { return Refusal{status, std::move(reason)}; }

}  // namespace

bool has_control_byte(std::string_view text) {
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

std::string_view disguised_framing_name(std::string_view name) {
  for (std::string_view real : kFramingHeaders) {
    if (!iequals(name, real) && same_letters(name, real)) return real;
  }
  return {};
}

bool is_valid_host(std::string_view host) {
  if (host.empty()) return false;
  std::string_view rest;
  if (host.front() == '[') {  // IP literal
    size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : host.substr(1, close - 1)) {
      if (!is_hex_digit(c) && c != ':' && c != '.') return false;
    }
    rest = host.substr(close + 1);
  } else {
    size_t colon = host.find(':');
    std::string_view name = host.substr(0, colon);
    if (name.empty()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
      if (name[i] == '%') {  // pct-encoded
        if (i + 2 >= name.size() || !is_hex_digit(name[i + 1]) || !is_hex_digit(name[i + 2])) return false;
        i += 2;
      } else if (!is_reg_name_char(name[i])) {
        return false;
      }
    }
    rest = colon == std::string_view::npos ? std::string_view() : host.substr(colon);
  }
  if (rest.empty()) return true;
  std::string_view port = rest.substr(1);
  if (rest.front() != ':' || port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Refusal check_transfer_encoding(const MessageHead& head, int status_for_coding) {
  int chunked_seen = 0;
  bool chunked_last = false;
  bool other_coding = false;
  for (size_t i = 0; i < head.fields.size(); ++i) {
    if (!iequals(head.name(i), "transfer-encoding")) continue;
    std::string_view list = head.value(i);
    for (size_t start = 0; start <= list.size();) {
      size_t comma = list.find(',', start);
      if (comma == std::string_view::npos) comma = list.size();
      std::string_view coding = trim_ows(list.substr(start, comma - start));
      start = comma + 1;
      if (coding.empty()) return refuse(400, "empty element in Transfer-Encoding");
      std::string_view name = trim_ows(coding.substr(0, coding.find(';')));
      if (!is_token(name)) return refuse(400, "malformed Transfer-Encoding");
      chunked_last = iequals(name, "chunked");
      if (chunked_last && name.size() != coding.size()) return refuse(400, "parameters on chunked");
      if (chunked_last) ++chunked_seen;
      other_coding = other_coding || !chunked_last;
    }
  }
  if (chunked_seen > 1) return refuse(400, "chunked given more than once in Transfer-Encoding");
  if (chunked_seen == 1 && !chunked_last) return refuse(400, "chunked is not the final transfer coding");
  if (other_coding) return refuse(status_for_coding, "transfer coding not implemented (only chunked is)");
  return {};
}

Refusal check_request_head(const MessageHead& request) {
  if (request.http_major != 1) return refuse(400, "unsupported HTTP version");
  std::string_view method = request.view(request.method);
  if (method == "CONNECT") return refuse(405, "CONNECT is not supported");
  if (method == "TRACE" && request.has_body()) return refuse(400, "TRACE request with a body");

  std::string_view target = request.view(request.target);
  for (unsigned char c : target) {
    if (c <= 0x20 || c == 0x7f) return refuse(400, "whitespace or control byte in the request target");
  }
  bool absolute = false;
  std::string_view authority = absolute_authority(target, absolute);
  if (absolute) {
    if (authority.find('@') != std::string_view::npos) return refuse(400, "userinfo in the request target");
    if (!is_valid_host(authority)) return refuse(400, "invalid host in the request target");
  } else if (target == "*") {
    if (method != "OPTIONS") return refuse(400, "asterisk target on a method other than OPTIONS");
  } else if (target.empty() || target.front() != '/') {
    return refuse(400, "invalid request target");
  }

  int hosts = 0;
  bool transfer_encoding = false;
  for (size_t i = 0; i < request.fields.size(); ++i) {
    std::string problem = check_field_name(request, i);
    if (!problem.empty()) return refuse(400, problem);
    // MessageParser refuses these as it parses; a head built from HTTP/2
    // HEADERS (where nghttp2 refuses only NUL, CR and LF) is checked here.
    if (has_control_byte(request.value(i))) return refuse(400, "control byte in a header value");
    std::string_view name = request.name(i);
    if (iequals(name, "host")) {
      if (++hosts > 1) return refuse(400, "duplicate Host header");
      if (!is_valid_host(trim_ows(request.value(i)))) return refuse(400, "invalid Host header");
    }
    transfer_encoding = transfer_encoding || iequals(name, "transfer-encoding");
  }
  if (hosts == 0 && request.http_minor >= 1) return refuse(400, "missing Host header");
  if (transfer_encoding && request.http_minor == 0) return refuse(400, "Transfer-Encoding in an HTTP/1.0 request");
  return transfer_encoding ? check_transfer_encoding(request) : Refusal{};
}

std::string check_response_head(const MessageHead& response) {
  if (has_control_byte(response.view(response.reason))) return "control byte in the status line";
  bool transfer_encoding = false;
  for (size_t i = 0; i < response.fields.size(); ++i) {
    std::string problem = check_field_name(response, i);
    if (!problem.empty()) return problem;
    transfer_encoding = transfer_encoding || iequals(response.name(i), "transfer-encoding");
  }
  if (!transfer_encoding) return "";
  if (response.http_minor == 0) return "Transfer-Encoding in an HTTP/1.0 response";
  return check_transfer_encoding(response, 502).reason;
}

std::string check_trailer_fields(const TrailerFields& trailers) {
  for (size_t i = 0; i < trailers.fields.size(); ++i) {
    std::string problem = check_name(trailers.name(i), "trailer");
    if (!problem.empty()) return problem;
  }
  return "";
}

std::string_view request_host(const MessageHead& request) {
  bool absolute = false;
  std::string_view authority = absolute_authority(request.view(request.target), absolute);
  return absolute ? authority : trim_ows(find_header(request, "host"));
}

bool method_defines_body(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

bool body_framing_is_risky(const MessageHead& request) {
  return request.has_body() && !method_defines_body(request.view(request.method));
}

bool status_doubts_framing(int status) {
  switch (status) {
    case 400: case 408: case 411: case 413: case 414: case 431: case 501: case 505:
      return true;
    default:
      return false;
  }
}

bool may_reuse_upstream(const ExchangeEnd& end) {
  return !end.risky_request_body && end.response_complete && end.backend_keep_alive && !end.bytes_left_over &&
         !status_doubts_framing(end.response_status);
}

}  // namespace lb
