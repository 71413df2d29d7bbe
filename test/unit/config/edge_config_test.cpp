// README "Access control" from flags and the config file: --allow/--deny, and
// a route's allow, deny, basic-auth and forward-auth keys with their one-line errors.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "test/unit/config/options_test_support.h"

using namespace lb;
using namespace options_test;

namespace {

// A config whose one route carries `edge` (a JSON fragment of route keys).
std::string route_error(const std::string& edge) {
  ConfigFile file(R"({"backends": ["http://w:1"], "routes": [{"pool": "default", )" + edge + "}]}");
  return error_of({"--config", file.path.c_str()});
}

}  // namespace

// The flags are repeatable and checked; the file's arrays are the same flags.
TEST_CASE("access lists: --allow and --deny are parsed and checked", "[options][access]") {
  Options o = parse({"-b", "http://w:1", "--allow", "10.0.0.0/8", "--allow", "::1", "--deny", "10.0.0.7"});
  CHECK(o.allow == std::vector<std::string>{"10.0.0.0/8", "::1"});
  CHECK(o.deny == std::vector<std::string>{"10.0.0.7"});
  CHECK(error_of({"-b", "http://w:1", "--deny", "10.0.0.1/33"}) ==
        "invalid --deny \"10.0.0.1/33\": prefix length must be 0-32");
  ConfigFile file(R"({"backends": ["http://w:1"], "allow": ["192.0.2.0/24"], "deny": ["192.0.2.9"]})");
  o = parse({"--config", file.path.c_str()});
  CHECK(o.allow == std::vector<std::string>{"192.0.2.0/24"});
  CHECK(o.deny == std::vector<std::string>{"192.0.2.9"});
}

// A route's edge keys are read, and every mistake names the key.
TEST_CASE("a route's allow, deny, basic-auth and forward-auth keys", "[options][access]") {
  const std::string users = "/tmp/lb_edge_config_test_" + std::to_string(::getpid()) + ".htpasswd";
  std::ofstream(users) << "alice:$5$abcdefgh$AVKsPBNtNFkXXKvvkrPMobKUZbm0i7P2XfVbwGW9BS/\n";
  ::chmod(users.c_str(), 0600);
  ConfigFile file(R"({"backends": ["http://w:1"], "routes": [{"pool": "default", "allow": ["::1"], "deny": ["::2"],
    "basic-auth": {"realm": "Staff", "users": ")" + users + R"("},
    "forward-auth": {"url": "http://auth:9000/verify", "copy-headers": ["X-User"], "timeout": 1.5}}]})");
  Options o = parse({"--config", file.path.c_str()});
  REQUIRE(o.routes.size() == 1);
  const Route& route = o.routes[0];
  CHECK_FALSE(route.access.empty());
  CHECK(route.access.check("::2").refusal == EdgeRefusal::Deny);
  REQUIRE(route.basic_auth);
  CHECK(route.basic_auth->realm == "Staff");
  CHECK(route.basic_auth->users->verify("alice", "secret5"));
  REQUIRE(route.forward_auth);
  CHECK(route.forward_auth->host == "auth");
  CHECK(route.forward_auth->port == 9000);
  CHECK(route.forward_auth->timeout == Millis(1500));
  CHECK(route.forward_auth->copy_headers == std::vector<std::string>{"X-User"});

  CHECK(route_error(R"("allow": "10.0.0.0/8")") == "config key 'routes[0].allow': expected an array of strings");
  CHECK(route_error(R"("basic-auth": {"realm": "a\"b", "users": "x"})") ==
        "config key 'routes[0].basic-auth.realm': realm may hold printable ASCII but '\"' and '\\'");
  CHECK(route_error(R"("basic-auth": {"realm": "R"})") ==
        "config key 'routes[0].basic-auth': missing \"users\" (an htpasswd file)");
  CHECK(route_error(R"("basic-auth": {"realm": "R", "users": "x", "hash": "md5"})") ==
        "config key 'routes[0].basic-auth.hash': unknown key (use realm, users)");
  CHECK(route_error(R"("forward-auth": {"url": "https://auth/"})") ==
        "config key 'routes[0].forward-auth.url': 'https://auth/': use an http:// URL");
  CHECK(route_error(R"("forward-auth": {"url": "http://auth/", "copy-headers": ["Content-Length"]})")
            .find("config key 'routes[0].forward-auth.copy-headers': ") == 0);
  CHECK(route_error(R"("forward-auth": {"url": "http://auth/", "timeout": 0})") ==
        "config key 'routes[0].forward-auth.timeout': expected seconds, more than 0 and at most 600");
  std::remove(users.c_str());
}
