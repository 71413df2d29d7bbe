// Cookie-based session persistence (--sticky-cookie NAME).
//
// A client without a valid cookie is balanced as usual and its response gets
// `Set-Cookie: NAME=<opaque id>; Path=/; HttpOnly`; later requests carrying the
// cookie go to the same backend while it can take traffic. The id is an HMAC of
// the backend URL keyed by the whole backend list (and --sticky-secret), so it
// does not reveal the address, and every instance given the same list agrees.
// Unknown (forged or stale) values are treated as no cookie.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lb/balancing/backend.h"

namespace lb {

class StickySessions {
 public:
  StickySessions(std::string cookie_name, const BackendList& backends, const std::string& secret);

  const std::string& cookie_name() const { return cookie_name_; }

  // The backend a cookie value stands for, or nullptr for unknown values.
  std::shared_ptr<Backend> backend_for(std::string_view cookie_value) const;
  // The cookie value that pins `backend`.
  const std::string& cookie_value(const Backend& backend) const;
  // The full Set-Cookie header value for `backend`.
  std::string set_cookie_value(const Backend& backend, bool secure) const;

  // Finds our cookie in a Cookie header value ("a=1; NAME=v; b=2"); empty if absent.
  std::string_view find_in(std::string_view cookie_header) const;
  // The Cookie header value without our cookie (so the backend never sees it);
  // empty when nothing else remains.
  std::string strip_from(std::string_view cookie_header) const;

 private:
  std::string cookie_name_;
  std::unordered_map<std::string, std::shared_ptr<Backend>> by_value_;  // immutable after construction
  std::unordered_map<const Backend*, std::string> value_by_backend_;
};

}  // namespace lb
