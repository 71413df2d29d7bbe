// --allow/--deny and a route's allow/deny: deny first, then allow when any is given.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "lb/protection/access_list.h"

using namespace lb;

// No lists: everyone; deny only: all but the denied; allow only: only the allowed.
TEST_CASE("access list: deny first, then allow if any is given", "[access]") {
  const AccessList none = AccessList::parse({}, {});
  CHECK(none.empty());
  CHECK(bool(none.check("203.0.113.7")));

  const AccessList deny_only = AccessList::parse({}, {"127.0.0.2/32", "2001:db8::/32"});
  CHECK(bool(deny_only.check("127.0.0.1")));
  AccessVerdict denied = deny_only.check("127.0.0.2");
  CHECK(denied.refusal == EdgeRefusal::Deny);
  CHECK(denied.rule == "deny 127.0.0.2/32");
  CHECK(deny_only.check("2001:DB8::5").refusal == EdgeRefusal::Deny);
  CHECK(bool(deny_only.check("::1")));

  const AccessList allow_only = AccessList::parse({"10.0.0.0/8", "::1"}, {});
  CHECK(bool(allow_only.check("10.1.2.3")));
  CHECK(bool(allow_only.check("::ffff:10.1.2.3")));  // a dual-stack socket's spelling
  CHECK(bool(allow_only.check("::1")));
  AccessVerdict outside = allow_only.check("11.0.0.1");
  CHECK(outside.refusal == EdgeRefusal::NotAllowed);
  CHECK(outside.rule == "no allow entry covers 11.0.0.1");
  CHECK(allow_only.check("not an address").refusal == EdgeRefusal::NotAllowed);
}

// An address both lists cover is refused: deny wins.
TEST_CASE("access list: deny wins over allow", "[access]") {
  const AccessList both = AccessList::parse({"127.0.0.0/8"}, {"127.0.0.2"});
  CHECK(bool(both.check("127.0.0.1")));
  CHECK(both.check("127.0.0.2").refusal == EdgeRefusal::Deny);
  CHECK(both.check("192.0.2.1").refusal == EdgeRefusal::NotAllowed);
}

// A bad entry is one line naming the list and the entry.
TEST_CASE("access list: bad CIDRs name the list", "[access]") {
  auto error_of = [](const std::vector<std::string>& allow, const std::vector<std::string>& deny) -> std::string {
    try {
      AccessList::parse(allow, deny);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(error_of({"10.0.0.0/33"}, {}) == "invalid --allow \"10.0.0.0/33\": prefix length must be 0-32");
  CHECK(error_of({}, {"nonsense"}) == "invalid --deny \"nonsense\": not an IP address or CIDR");
  CHECK(error_of({}, {"::1/129"}) == "invalid --deny \"::1/129\": prefix length must be 0-128");
  CHECK(error_of({"1.2.3.4/"}, {}) == "invalid --allow \"1.2.3.4/\": prefix length must be 0-32");
}

// Each refusal has the label /metrics counts it under.
TEST_CASE("access list: refusal labels", "[access]") {
  CHECK(std::string(edge_refusal_label(EdgeRefusal::Deny)) == "deny");
  CHECK(std::string(edge_refusal_label(EdgeRefusal::NotAllowed)) == "not_allowed");
  CHECK(std::string(edge_refusal_label(EdgeRefusal::BasicAuth)) == "basic_auth");
  CHECK(std::string(edge_refusal_label(EdgeRefusal::ForwardAuth)) == "forward_auth");
}
