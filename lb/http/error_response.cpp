#include "lb/http/error_response.h"

#include <nlohmann/json.hpp>

namespace lb {

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

std::string error_body(const std::string& message) { return nlohmann::json{{"error", message}}.dump(); }

std::string error_head(int status, size_t body_bytes, bool close, const std::string& extra_headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body_bytes) +
                    "\r\nCache-Control: no-store\r\n";
  if (close) out += "Connection: close\r\n";
  out += extra_headers;
  out += "\r\n";
  return out;
}

std::string error_response(int status, const std::string& message, bool close,
                           const std::string& extra_headers) {
  const std::string body = error_body(message);
  return error_head(status, body.size(), close, extra_headers) + body;
}

}  // namespace lb
