// Small text rules of HTTP/1.1 shared by the load balancer and the backend.
#pragma once

#include <string_view>

namespace common {

// Without the optional white space (spaces and tabs) around it (RFC 9110 5.6.3).
std::string_view trim_ows(std::string_view text);

// ASCII case-insensitive comparison (header names, tokens).
bool iequals(std::string_view a, std::string_view b);

// True when comma-separated `list` ("keep-alive, Upgrade") holds `token`, ignoring case.
bool header_list_contains(std::string_view list, std::string_view token);

// RFC 9110 tchar, and a non-empty run of them (header names, methods).
bool is_token_char(unsigned char c);
bool is_token(std::string_view text);

}  // namespace common
