// Sticky-session cookies: opaque, stable across instances, forged values ignored.
#include <catch2/catch.hpp>

#include "lb/balancing/sticky_sessions.h"

using namespace lb;

namespace {
BackendList backends_for(std::initializer_list<uint16_t> ports) {
  BackendList list;
  for (uint16_t port : ports) {
    list.push_back(std::make_shared<Backend>(BackendSpec{"http", "10.0.0.1", port, 1}, BackendSettings{}));
  }
  return list;
}
}  // namespace

// Each backend gets its own value, which maps back to it and hides its address.
TEST_CASE("cookie values pin and hide backends", "[sticky]") {
  auto backends = backends_for({8001, 8002});
  StickySessions sticky("lb", backends, "");
  const std::string& a = sticky.cookie_value(*backends[0]);
  const std::string& b = sticky.cookie_value(*backends[1]);
  CHECK(a != b);
  CHECK(a.size() == 24);
  CHECK(a.find("8001") == std::string::npos);
  CHECK(a.find("10.0.0.1") == std::string::npos);
  CHECK(sticky.backend_for(a) == backends[0]);
  CHECK(sticky.backend_for(b) == backends[1]);
  CHECK(sticky.backend_for("forged") == nullptr);
  CHECK(sticky.backend_for("") == nullptr);
  CHECK(sticky.set_cookie_value(*backends[0], false) == "lb=" + a + "; Path=/; HttpOnly");
  CHECK(sticky.set_cookie_value(*backends[0], true) == "lb=" + a + "; Path=/; HttpOnly; Secure");
}

// Two instances with the same backends (in any order) agree; a different secret or list does not.
TEST_CASE("cookie values agree across instances", "[sticky]") {
  auto one = backends_for({8001, 8002, 8003});
  auto other = backends_for({8003, 8001, 8002});
  StickySessions first("lb", one, "s3cret");
  StickySessions second("lb", other, "s3cret");
  CHECK(first.cookie_value(*one[0]) == second.cookie_value(*other[1]));
  StickySessions salted("lb", one, "another");
  CHECK(first.cookie_value(*one[0]) != salted.cookie_value(*one[0]));
  auto fewer = backends_for({8001, 8002});
  StickySessions smaller("lb", fewer, "s3cret");
  CHECK(first.cookie_value(*one[0]) != smaller.cookie_value(*fewer[0]));
}

// Our cookie is found among others and removed before forwarding, others untouched.
TEST_CASE("finding and stripping the cookie", "[sticky]") {
  auto backends = backends_for({8001});
  StickySessions sticky("lb", backends, "");
  CHECK(sticky.find_in("a=1; lb=abc; b=2") == "abc");
  CHECK(sticky.find_in("lbx=1; xlb=2") == "");
  CHECK(sticky.strip_from("a=1; lb=abc; b=%26") == "a=1; b=%26");
  CHECK(sticky.strip_from("lb=abc") == "");
  CHECK(sticky.strip_from("a=1") == "a=1");
}
