// Routes (lb/routing/router.h): hosts, wildcards, prefixes, order, the query,
// percent-encoding, strip-prefix, shadowing; and header rules.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "lb/routing/header_rules.h"
#include "lb/routing/router.h"

using namespace lb;

namespace {

// Routes from "MATCH=POOL" texts, as --route gives them.
Router router_of(const std::vector<std::string>& texts) {
  std::vector<Route> routes;
  for (const auto& text : texts) {
    const size_t equals = text.rfind('=');
    routes.push_back(parse_route_match(text.substr(0, equals)));
    routes.back().pool = text.substr(equals + 1);
  }
  return Router(std::move(routes));
}

// The pool a request goes to, or "404".
std::string pool_for(const Router& router, const std::string& host, const std::string& target) {
  const Route* route = router.match(host, target);
  return route ? route->pool : "404";
}

}  // namespace

TEST_CASE("route MATCH forms: HOST, HOST/PATH, /PATH", "[router]") {
  Route host = parse_route_match("API.Example.com");
  CHECK(host.host == "api.example.com");  // hosts compare case-insensitively
  CHECK(host.path.empty());
  Route both = parse_route_match("*.example.com/static/");
  CHECK(both.host == "*.example.com");
  CHECK(both.path == "/static/");
  Route path = parse_route_match("/api");
  CHECK(path.host.empty());
  CHECK(path.path == "/api");
  CHECK(path.match_text() == "/api");

  for (const char* bad : {"", "exa mple.com", "a@b.com", "*example.com", "a..b", "/a b", "/a?q", "*.", "ex_ample.com"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_route_match(bad), std::invalid_argument);
  }
}

TEST_CASE("hosts: exact, any case, without the port, wildcards", "[router]") {
  Router router = router_of({"api.example.com=api", "*.example.com=sub"});
  CHECK(pool_for(router, "api.example.com", "/") == "api");
  CHECK(pool_for(router, "API.EXAMPLE.COM:8443", "/x") == "api");
  CHECK(pool_for(router, "api.example.com.", "/") == "api");  // the root's dot
  CHECK(pool_for(router, "www.example.com", "/") == "sub");
  CHECK(pool_for(router, "a.b.example.com", "/") == "sub");
  CHECK(pool_for(router, "example.com", "/") == "404");  // a wildcard is not its apex
  CHECK(pool_for(router, "badexample.com", "/") == "404");
  CHECK(pool_for(router, "api.example.com.evil", "/") == "404");
  CHECK(pool_for(router, "", "/") == "404");

  Router literal = router_of({"[::1]=v6", "127.0.0.1=v4"});
  CHECK(host_without_port("[::1]:8000") == "[::1]");
  CHECK(pool_for(literal, "127.0.0.1:8000", "/") == "v4");
}

TEST_CASE("paths: prefixes at segment boundaries, the query not part of them", "[router]") {
  Router router = router_of({"/api=api", "/static/=files", "/=web"});
  CHECK(pool_for(router, "h", "/api") == "api");
  CHECK(pool_for(router, "h", "/api/x") == "api");
  CHECK(pool_for(router, "h", "/api?q=1") == "api");
  CHECK(pool_for(router, "h", "/apis") == "web");
  CHECK(pool_for(router, "h", "/static/") == "files");
  CHECK(pool_for(router, "h", "/static/a.css") == "files");
  CHECK(pool_for(router, "h", "/static") == "web");  // "/static/" asks for the slash
  CHECK(pool_for(router, "h", "/?api") == "web");    // the query is not the path
  CHECK(pool_for(router, "h", "*") == "404");        // OPTIONS * has no path to match "/"
}

TEST_CASE("paths match as sent: no decoding, case kept", "[router]") {
  Router router = router_of({"/api=api", "/caf%C3%A9=cafe"});
  CHECK(pool_for(router, "h", "/%61pi") == "404");  // %61 is 'a', but is not decoded
  CHECK(pool_for(router, "h", "/API") == "404");
  CHECK(pool_for(router, "h", "/caf%C3%A9/menu") == "cafe");
  CHECK(pool_for(router, "h", "/caf%c3%a9") == "404");
}

TEST_CASE("absolute-form targets: the path after the authority", "[router]") {
  Router router = router_of({"/api=api", "/=web"});
  CHECK(target_path("http://h:81/api/x?q") == "/api/x");
  CHECK(target_path("http://h") == "/");
  CHECK(target_path("http://h?q") == "/");
  CHECK(target_path("*") == "");
  CHECK(pool_for(router, "h", "http://h/api/v1") == "api");
  CHECK(pool_for(router, "h", "http://h") == "web");
}

TEST_CASE("routes are tried in order, the first match wins", "[router]") {
  Router router = router_of({"api.example.com/v2=v2", "api.example.com=api", "/v2=anyhost", "/=web"});
  CHECK(pool_for(router, "api.example.com", "/v2/users") == "v2");
  CHECK(pool_for(router, "api.example.com", "/v1/users") == "api");
  CHECK(pool_for(router, "other", "/v2/users") == "anyhost");
  CHECK(pool_for(router, "other", "/v1") == "web");
  CHECK(router.match("other", "/v1") == &router.routes()[3]);
  CHECK(pool_for(Router{}, "h", "/") == "404");
}

TEST_CASE("strip-prefix removes the matched prefix, keeps the query", "[router]") {
  CHECK(strip_path_prefix("/api/users", "/api") == "/users");
  CHECK(strip_path_prefix("/api", "/api") == "/");
  CHECK(strip_path_prefix("/api?q=1", "/api") == "/?q=1");
  CHECK(strip_path_prefix("/api/users?q=1", "/api/") == "/users?q=1");
  CHECK(strip_path_prefix("/api/", "/api/") == "/");
  CHECK(strip_path_prefix("http://h/api/users?x", "/api") == "http://h/users?x");
  CHECK(strip_path_prefix("http://h", "/") == "http://h");
  CHECK(strip_path_prefix("/other", "/api") == "/other");  // not matched: unchanged
}

TEST_CASE("a route that can never match is found, with the one that hides it", "[router]") {
  auto shadowed = [](const std::vector<std::string>& texts) {
    std::vector<std::string> found;
    for (const auto& s : find_shadowed_routes(router_of(texts).routes())) {
      found.push_back(std::to_string(s.route) + " by " + std::to_string(s.by));
    }
    return found;
  };
  using List = std::vector<std::string>;
  CHECK(shadowed({"/api=a", "/api/v1=b"}) == List{"1 by 0"});
  CHECK(shadowed({"/api/v1=b", "/api=a"}).empty());  // the specific one first: both reachable
  CHECK(shadowed({"/=web", "api.example.com=api"}).empty());  // "/" misses "*", so "api..." can still match OPTIONS *
  CHECK(shadowed({"*.example.com=w", "api.example.com/x=a"}) == List{"1 by 0"});
  CHECK(shadowed({"*.example.com=w", "*.api.example.com=a"}) == List{"1 by 0"});
  CHECK(shadowed({"*.example.com=w", "example.com=a"}).empty());
  CHECK(shadowed({"api.example.com=a", "*.example.com=w"}).empty());
  CHECK(shadowed({"/api=a", "/apis=b"}).empty());
  CHECK(shadowed({"/a=x", "/b=y", "/a=z"}) == List{"2 by 0"});
  CHECK(shadowed({"h.com/a=x", "/a=y"}).empty());  // another host still reaches the second
}

TEST_CASE("header rules: remove and set drop fields, set and add append", "[router][headers]") {
  HeaderRules rules;
  rules.remove = {"X-Internal"};
  rules.set = {{"X-Env", "prod"}};
  rules.add = {{"X-Tag", "a"}, {"X-Tag", "b"}};
  CHECK(rules.drops("x-internal"));
  CHECK(rules.drops("X-ENV"));
  CHECK_FALSE(rules.drops("X-Tag"));  // add keeps what came
  std::string head;
  rules.append_to(head);
  CHECK(head == "X-Env: prod\r\nX-Tag: a\r\nX-Tag: b\r\n");
  CHECK(HeaderRules{}.empty());
}

TEST_CASE("header rules cannot touch hop-by-hop or framing fields", "[router][headers]") {
  for (const char* name : {"Connection", "content-length", "Transfer-Encoding", "Host", "TE", "Upgrade", "Keep-Alive"}) {
    INFO(name);
    CHECK_THAT(header_rule_refusal(name), Catch::Contains("cannot be changed"));
  }
  CHECK_THAT(header_rule_refusal("Bad Name"), Catch::Contains("not a header name"));
  CHECK_THAT(header_rule_refusal("X-A", "one\r\nX-Injected: 1"), Catch::Contains("control byte"));
  CHECK(header_rule_refusal("X-Request-Start", "t=1\tok").empty());
}
