// --config-etcd (README "One configuration in etcd"): two load balancers on
// one key follow every put and each other's admin changes, refuse a bad
// config whole, and ride out etcd going away and coming back. One etcd and
// one pair of instances serve every step, to keep the run short.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "test/support/backend_process.h"
#include "test/support/etcd_process.h"
#include "test/support/eventually.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"

using namespace test_support;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// What README promises: every instance on the key converges within a second
// (one watch event and one reload each). Sanitizer builds run several times slower: they get more.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr std::chrono::milliseconds kConverge = 3000ms;
#else
constexpr std::chrono::milliseconds kConverge = 1000ms;
#endif

json admin(int admin_port, const std::string& method, const std::string& target, const std::string& body = "") {
  const RawResponse response = http_request(admin_port, build_request(method, target, {}, body));
  INFO(method << " " << target << " -> " << response.status << " " << response.body);
  REQUIRE(response.status / 100 == 2);
  return json::parse(response.body);
}

json status_of(int admin_port) { return admin(admin_port, "GET", "/status"); }

// Every pool's backends, in order.
std::vector<json> all_backends(int admin_port) {
  std::vector<json> backends;
  const json status = status_of(admin_port);  // held: a range-for would drop the temporary before its body
  for (const json& pool : status["pools"]) {
    for (const json& backend : pool["backends"]) backends.push_back(backend);
  }
  return backends;
}

std::string id_of(int admin_port, const std::string& url) {
  for (const json& backend : all_backends(admin_port)) {
    if (backend["url"] == url) return backend["id"];
  }
  FAIL("no backend " << url);
  return "";
}

// "URL weight=N[ drain]" for each backend, in order: what a test compares.
std::vector<std::string> backends_of(int admin_port) {
  std::vector<std::string> shown;
  for (const json& backend : all_backends(admin_port)) {
    shown.push_back(backend["url"].get<std::string>() + " weight=" + std::to_string(backend["weight"].get<int>()) +
                    (backend["draining"].get<bool>() ? " drain" : ""));
  }
  return shown;
}

long metric(int admin_port, const std::string& sample) {
  const RawResponse response = http_get(admin_port, "/metrics");
  const size_t at = ("\n" + response.body).find("\n" + sample + " ");
  return at == std::string::npos ? -1 : std::stol(response.body.substr(at + sample.size() + 1));
}

std::string key_for_this_test() { return "/lb-test/" + std::to_string(::getpid()) + "/config"; }

// The config a test puts: these backends, health checked often.
std::string config_with(const std::vector<std::string>& urls) {
  return json{{"backends", urls}, {"health-interval", 0.2}}.dump();
}

struct Instance {
  LoadBalancerProcess process;
  int admin_port;
  Instance(const EtcdProcess& etcd, const std::string& key, const std::vector<std::string>& backends = {})
      : process(backends, {"--config-etcd", etcd.url(), "--config-etcd-key", key, "--admin-port", "0"}),
        admin_port(process.admin_port()) {}
};

}  // namespace

TEST_CASE("etcd config: two instances follow one key, its admin changes, bad configs and etcd outages",
          "[etcd][integration]") {
  REQUIRE(EtcdProcess::installed());  // scripts/deps.sh --test installs etcd-server
  EtcdProcess etcd;
  BackendProcess a, b, c;
  const std::string key = key_for_this_test();
  int64_t revision = etcd.put(key, config_with({a.url()}));
  Instance one(etcd, key), two(etcd, key);
  const std::vector<std::string> only_a = {a.url() + " weight=1"};
  CHECK(backends_of(one.admin_port) == only_a);
  CHECK(backends_of(two.admin_port) == only_a);
  CHECK(status_of(one.admin_port)["config"] == json{{"source", "etcd"}, {"key", key}, {"revision", revision},
                                                      {"etcd_reachable", true}});
  CHECK(metric(two.admin_port, "lb_config_revision") == revision);

  // A put reaches both.
  revision = etcd.put(key, config_with({a.url(), b.url()}));
  const std::vector<std::string> a_and_b = {a.url() + " weight=1", b.url() + " weight=1"};
  CHECK(eventually([&] { return backends_of(one.admin_port) == a_and_b; }, kConverge));
  CHECK(eventually([&] { return backends_of(two.admin_port) == a_and_b; }, kConverge));
  CHECK(eventually([&] { return metric(one.admin_port, "lb_config_revision") == revision; }));  // set once applied

  // Admin changes on one reach the other: add, drain, weight, remove.
  admin(one.admin_port, "POST", "/backends", json{{"url", c.url()}, {"weight", 3}}.dump());
  std::vector<std::string> expected = {a.url() + " weight=1", b.url() + " weight=1", c.url() + " weight=3"};
  CHECK(eventually([&] { return backends_of(two.admin_port) == expected; }, kConverge));
  const std::string c_id = id_of(two.admin_port, c.url());
  admin(two.admin_port, "POST", "/backends/" + c_id + "/drain");
  expected[2] = c.url() + " weight=3 drain";
  CHECK(eventually([&] { return backends_of(one.admin_port) == expected; }, kConverge));
  admin(one.admin_port, "PUT", "/backends/" + c_id + "/weight", R"({"weight": 7})");
  expected[2] = c.url() + " weight=7 drain";
  CHECK(eventually([&] { return backends_of(two.admin_port) == expected; }, kConverge));
  admin(two.admin_port, "POST", "/backends/" + c_id + "/enable");
  expected[2] = c.url() + " weight=7";
  CHECK(eventually([&] { return backends_of(one.admin_port) == expected; }, kConverge));
  admin(two.admin_port, "DELETE", "/backends/" + c_id);
  CHECK(eventually([&] { return backends_of(one.admin_port) == a_and_b; }, kConverge));
  CHECK(eventually([&] { return backends_of(two.admin_port) == a_and_b; }, kConverge));
  revision = etcd.mod_revision(key);  // the delete's write; both have applied it
  for (Instance* instance : {&one, &two}) {
    CHECK(eventually([&] { return status_of(instance->admin_port)["config"]["revision"] == revision; }, kConverge));
  }

  // A bad config (not JSON; JSON with an unknown key) is refused whole by
  // both, once per revision: the last good one keeps serving.
  etcd.put(key, "{\"backends\": [");
  etcd.put(key, R"({"backends": [")" + c.url() + R"("], "no-such-flag": 1})");
  for (Instance* instance : {&one, &two}) {
    CHECK(eventually([&] { return metric(instance->admin_port, R"(lb_config_etcd_errors_total{kind="rejected"})") == 2; }));
    CHECK(backends_of(instance->admin_port) == a_and_b);
    CHECK(status_of(instance->admin_port)["config"]["revision"] == revision);
    CHECK(http_get(instance->process.port()).status == 200);
    CHECK(instance->process.process().count_lines("[Reload] rejected") == 2);
    CHECK(instance->process.process().count_lines("unknown key 'no-such-flag'") == 1);
  }

  // etcd away: both keep serving, each says so once however often it retries.
  etcd.stop();
  for (Instance* instance : {&one, &two}) {
    CHECK(eventually([&] { return metric(instance->admin_port, R"(lb_config_etcd_errors_total{kind="unreachable"})") >= 2; }));
    CHECK(instance->process.process().count_lines("[etcd] unreachable") == 1);
    CHECK(http_get(instance->process.port()).status == 200);
    CHECK(backends_of(instance->admin_port) == a_and_b);
    CHECK(status_of(instance->admin_port)["config"]["etcd_reachable"] == false);
  }
  // An admin change meanwhile holds locally and says it was not shared.
  const json local = admin(one.admin_port, "PUT", "/backends/" + id_of(one.admin_port, b.url()) + "/weight",
                           R"({"weight": 2})");
  CHECK_THAT(local.value("shared_config_error", ""), Catch::Contains("holds on this instance only"));

  // Back (same port, same data): a new put reaches both.
  etcd.start();
  for (Instance* instance : {&one, &two}) {
    CHECK(instance->process.process().wait_for_line("[etcd] reachable again", 10s));
  }
  etcd.put(key, config_with({c.url()}));
  const std::vector<std::string> only_c = {c.url() + " weight=1"};
  CHECK(eventually([&] { return backends_of(one.admin_port) == only_c; }, kConverge));
  CHECK(eventually([&] { return backends_of(two.admin_port) == only_c; }, kConverge));
}

// Where an instance starts from when etcd has no config for it yet, or does not answer.
TEST_CASE("etcd config: start on the flags without a key or without etcd, wait when there are no flags",
          "[etcd][integration]") {
  REQUIRE(EtcdProcess::installed());  // scripts/deps.sh --test installs etcd-server
  EtcdProcess etcd;
  BackendProcess a, b;
  const std::string key = key_for_this_test() + "-start";

  // No key: the flags' backends serve until a config is put there.
  Instance flags_first(etcd, key, {a.url()});
  CHECK(backends_of(flags_first.admin_port) == std::vector<std::string>{a.url() + " weight=1"});
  CHECK(flags_first.process.process().count_lines("[etcd] no config at " + key) == 1);

  // etcd away: an instance with backends on its command line starts on them;
  // one without waits before listening, and starts once a config is there.
  etcd.stop();
  Instance away(etcd, key, {a.url()});
  CHECK(away.process.process().count_lines("[etcd] unreachable") == 1);
  CHECK(http_get(away.process.port()).status == 200);
  ChildProcess waiting(bin_path("load_balancer"), {"--port", "0", "--bind", "127.0.0.1", "--config-etcd", etcd.url(),
                                                   "--config-etcd-key", key});
  CHECK(waiting.wait_for_line("waiting for a valid config", 10s));
  CHECK_FALSE(waiting.wait_for_line("load_balancer listening on", 300ms));
  etcd.start();
  etcd.put(key, config_with({b.url()}));
  const int port = waiting.port_from_listening_line(10s, "load_balancer listening on ");
  CHECK(json::parse(http_get(port).body)["server_id"] == b.id());
  for (Instance* instance : {&flags_first, &away}) {
    CHECK(eventually([&] { return backends_of(instance->admin_port) == std::vector<std::string>{b.url() + " weight=1"}; }));
  }
  waiting.signal(SIGTERM);
  CHECK(waiting.wait_exit(10s) == 0);
}
