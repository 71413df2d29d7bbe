// The admin dashboard in a real browser: headless Chromium loads the page, runs
// its polling JavaScript, and we read the DOM it leaves behind (--dump-dom);
// to click its buttons, a test drives it in real time instead (DevToolsPage).
//
// Chromium is optional: without it this program prints why and exits 77, which
// ctest reports as "Skipped" (SKIP_RETURN_CODE in test/browser/CMakeLists.txt).
// CHROMIUM=/path/to/chrome picks a browser explicitly.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>

#include "test/browser/devtools_page.h"
#include "test/support/backend_process.h"
#include "test/support/child_process.h"
#include "test/support/eventually.h"
#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"

using namespace test_support;
using namespace std::chrono_literals;

namespace {

constexpr int kSkipped = 77;

// $CHROMIUM, or the first of the usual names found on $PATH.
std::optional<std::string> find_chromium() {
  if (const char* chosen = std::getenv("CHROMIUM"); chosen && *chosen) return std::string(chosen);
  std::istringstream path(std::getenv("PATH") ? std::getenv("PATH") : "");
  std::string dir;
  while (std::getline(path, dir, ':')) {
    for (const char* name : {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}) {
      std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return std::nullopt;
}

std::string& chromium() {
  static std::string path;
  return path;
}

// Loads `url` in headless Chromium, lets its timers run for `budget` of virtual
// time (about three polls of /status at the default), and returns the DOM as HTML.
std::string dump_dom(const std::string& url, std::chrono::milliseconds budget = 3000ms) {
  TempDir profile;
  ChildProcess browser(chromium(), {"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                    "--disable-sync", "--user-data-dir=" + profile.path(),
                                    "--virtual-time-budget=" + std::to_string(budget.count()), "--dump-dom", url});
  std::optional<int> status = browser.wait_exit(60s);
  INFO("chromium output:\n" << browser.stderr_text());
  REQUIRE(status == 0);
  return browser.stdout_text();
}

// The HTML of the card whose data-backend-url is `url` ("" when there is none).
std::string card_for(const std::string& dom, const std::string& url) {
  std::size_t attribute = dom.find("data-backend-url=\"" + url + "\"");
  if (attribute == std::string::npos) return "";
  std::size_t start = dom.rfind("<article", attribute);
  std::size_t end = dom.find("</article>", attribute);
  if (start == std::string::npos || end == std::string::npos) return "";
  return dom.substr(start, end - start);
}

// The value of `name` in the card's opening tag ("" when absent).
std::string card_attribute(const std::string& card, const std::string& name) {
  std::string opening = card.substr(0, card.find('>'));
  std::size_t at = opening.find(" " + name + "=\"");
  if (at == std::string::npos) return "";
  at += name.size() + 3;
  return opening.substr(at, opening.find('"', at) - at);
}

}  // namespace

// The dashboard shows a card per backend, and a killed backend's card turns
// UNHEALTHY (data-healthy="false") with the change in the event log.
TEST_CASE("dashboard shows a killed backend as unhealthy", "[browser]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()}, {"--admin-port", "0", "--health-interval", "0.2"});
  std::string dashboard = "http://127.0.0.1:" + std::to_string(lb.admin_port()) + "/";

  std::string before = dump_dom(dashboard);
  INFO("DOM before the kill:\n" << before);
  std::string card_a = card_for(before, a.url()), card_b = card_for(before, b.url());
  REQUIRE(!card_a.empty());
  REQUIRE(!card_b.empty());
  CHECK(card_attribute(card_a, "data-healthy") == "true");
  CHECK(card_attribute(card_b, "data-healthy") == "true");
  CHECK(card_b.find(">HEALTHY<") != std::string::npos);
  CHECK(card_attribute(card_b, "data-circuit") == "closed");
  CHECK(before.find("<b id=\"algorithm\">round-robin</b>") != std::string::npos);

  REQUIRE(b.process().signal(SIGKILL));  // only the backend this test started
  b.process().wait_exit(5s);
  REQUIRE(lb.process().wait_for_line(b.url() + " is UNHEALTHY", 5s));

  std::string after = dump_dom(dashboard);
  INFO("DOM after the kill:\n" << after);
  card_b = card_for(after, b.url());
  CHECK(card_attribute(card_b, "data-healthy") == "false");
  CHECK(card_b.find(">UNHEALTHY<") != std::string::npos);
  CHECK(card_attribute(card_for(after, a.url()), "data-healthy") == "true");
  CHECK(after.find(b.url() + " is UNHEALTHY") != std::string::npos);  // the event log
}

// An ejected backend's card turns red with an EJECTED badge and its ejection count.
TEST_CASE("dashboard shows an ejected backend", "[browser]") {
  BackendProcess a, b, c;
  LoadBalancerProcess lb({a.url(), b.url(), c.url()},
                         {"--admin-port", "0", "--eject-after", "2", "--eject-seconds", "60", "--retries", "0"});
  for (int i = 0; i < 4; ++i) http_request(lb.port(), build_request("GET", "/status/500"));  // a, b, c, a
  REQUIRE(lb.process().wait_for_line(a.url() + " is EJECTED for 60 s (2 consecutive failures)", 5s));

  std::string dom = dump_dom("http://127.0.0.1:" + std::to_string(lb.admin_port()) + "/");
  INFO("DOM:\n" << dom);
  std::string card_a = card_for(dom, a.url()), card_b = card_for(dom, b.url());
  CHECK(card_attribute(card_a, "data-ejected") == "true");
  CHECK(card_a.find(">EJECTED<") != std::string::npos);
  CHECK(card_a.find("ejections 1") != std::string::npos);
  CHECK(card_attribute(card_b, "data-ejected") == "false");
  CHECK(card_b.find(">HEALTHY<") != std::string::npos);
}

// Backends are grouped by pool: each pool's section holds its own cards and
// names its algorithm and health path.
TEST_CASE("dashboard groups backends by pool", "[browser]") {
  BackendProcess web, api;
  LoadBalancerProcess lb({}, {"-b", "web=" + web.url(), "-b", "api=" + api.url(), "--route", "/api=api", "--route",
                              "/=web", "--admin-port", "0"});
  std::string dom = dump_dom("http://127.0.0.1:" + std::to_string(lb.admin_port()) + "/");
  INFO("DOM:\n" << dom);
  auto section = [&](const std::string& pool) {
    std::size_t start = dom.find("<section class=\"pool\" id=\"pool-" + pool + "\"");
    if (start == std::string::npos) return std::string();
    return dom.substr(start, dom.find("</section>", start) - start);
  };
  const std::string web_section = section("web"), api_section = section("api");
  REQUIRE(!web_section.empty());
  REQUIRE(!api_section.empty());
  CHECK(dom.find("id=\"pool-web\"") < dom.find("id=\"pool-api\""));  // the order they were given
  CHECK(web_section.find("data-backend-url=\"" + web.url() + "\"") != std::string::npos);
  CHECK(web_section.find(api.url()) == std::string::npos);
  CHECK(api_section.find("data-backend-url=\"" + api.url() + "\"") != std::string::npos);
  CHECK(api_section.find("data-algorithm=\"round-robin\"") != std::string::npos);
  CHECK(api_section.find("health /health every 5 s") != std::string::npos);
  CHECK(dom.find("<b id=\"pool-count\">2</b>") != std::string::npos);
  CHECK(dom.find("<option value=\"api\">api</option>") != std::string::npos);  // "Add backend" picks a pool
}

// The workshop's "Break it" step: a click on "Errors 50%" makes the request view
// show retries in words, a click on "Fail health" turns the card unhealthy, and
// "Clear" brings it back. The page runs in real time; the test sends the traffic.
TEST_CASE("dashboard fault buttons break a backend and the request view shows the retries", "[browser]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()}, {"--admin-port", "0", "--health-interval", "0.2", "--cb-min-requests",
                                              "1000", "--eject-after", "0"});
  DevToolsPage page(chromium(), "http://127.0.0.1:" + std::to_string(lb.admin_port()) + "/");
  const std::string card_a = "document.querySelector('[data-backend-url=\"" + a.url() + "\"]')";
  REQUIRE(page.wait_for(card_a, 10s));
  CHECK(page.evaluate(card_a + ".dataset.fault") == "none");

  page.evaluate(card_a + ".querySelector('[data-action=errors]').click()");
  REQUIRE(page.wait_for(card_a + ".dataset.fault === 'errors 50% (503)'", 5s));
  CHECK(page.evaluate(card_a + ".querySelector('[data-action=errors]').getAttribute('aria-pressed')") == "true");
  for (int i = 0; i < 30; ++i) CHECK(http_get(lb.port()).status == 200);  // every abort retried on b

  const std::string retried = "document.querySelector('#requests tbody tr.retried')";
  REQUIRE(page.wait_for(retried, 5s));
  const std::string a_name = a.url().substr(7), b_name = b.url().substr(7);
  CHECK(page.evaluate(retried + ".querySelector('td.trace').textContent") ==
        "round-robin chose " + a_name + ": injected fault (503), retrying; round-robin chose " + b_name);
  CHECK(page.evaluate(retried + ".dataset.status") == "200");
  CHECK(page.wait_for("document.querySelectorAll('#requests tbody tr').length === 30", 5s));

  page.evaluate(card_a + ".querySelector('[data-action=\"fail-health\"]').click()");
  REQUIRE(page.wait_for(card_a + ".dataset.healthy === 'false'", 5s));
  CHECK(page.evaluate(card_a + ".querySelector('.badge').textContent") == "UNHEALTHY");
  CHECK(page.evaluate(card_a + ".dataset.fault") == "fail health · errors 50% (503)");  // the buttons add up
  CHECK(page.evaluate("document.getElementById('events').textContent.includes('" + a.url() +
                      " became UNHEALTHY (injected fault: fail_health)')") == true);

  // The sparkline keeps a sample per poll since the page opened.
  const std::string points = card_a + ".querySelector('svg.spark polyline').getAttribute('points').split(' ').length";
  REQUIRE(page.wait_for(points + " >= 3", 5s));
  const int before = page.evaluate(points).get<int>();
  REQUIRE(page.wait_for(points + " > " + std::to_string(before), 5s));

  page.evaluate(card_a + ".querySelector('[data-action=\"clear-fault\"]').click()");
  REQUIRE(page.wait_for(card_a + ".dataset.healthy === 'true' && " + card_a + ".dataset.fault === 'none'", 5s));
  CHECK(page.evaluate("document.getElementById('events').textContent.includes('" + a.url() + " fault cleared')") == true);
}

// The workshop's gray failure, issue 25: "Slow 5x" makes one backend five times
// slower while its health check passes, the pool's select switches it to
// least-latency (PUT /pools/NAME, seen in /status), and the card and pool
// numbers the room watches (latency, in flight / limit, p50, p99) are drawn.
TEST_CASE("dashboard: Slow 5x, then least-latency from the pool's select", "[browser]") {
  BackendProcess a, b;
  LoadBalancerProcess lb({a.url(), b.url()}, {"--admin-port", "0", "--health-interval", "0.2", "--cb-min-requests",
                                              "1000", "--eject-after", "0"});
  const int admin_port = lb.admin_port();
  DevToolsPage page(chromium(), "http://127.0.0.1:" + std::to_string(admin_port) + "/");
  const std::string card_a = "document.querySelector('[data-backend-url=\"" + a.url() + "\"]')";
  const std::string card_b = "document.querySelector('[data-backend-url=\"" + b.url() + "\"]')";
  const std::string pool = "document.querySelector('section[data-pool=\"default\"]')";
  REQUIRE(page.wait_for(card_a + " && " + card_b, 10s));

  page.evaluate(card_a + ".querySelector('[data-action=\"slow-5x\"]').click()");
  REQUIRE(page.wait_for(card_a + ".dataset.fault === 'slow 5x'", 5s));
  CHECK(page.evaluate(card_a + ".querySelector('[data-action=\"slow-5x\"]').getAttribute('aria-pressed')") == "true");
  CHECK(page.evaluate("document.getElementById('events').textContent.includes('" + a.url() + " fault: slow 5x')") ==
        true);

  // Round-robin still sends a half of the traffic to the slow one.
  for (int i = 0; i < 6; ++i) REQUIRE(http_get(lb.port(), "/slow?ms=30").status == 200);
  const std::string latency_a = card_a + ".querySelector('[data-field=\"latency_ms\"]').textContent";
  const std::string latency_b = card_b + ".querySelector('[data-field=\"latency_ms\"]').textContent";
  REQUIRE(page.wait_for("/^[0-9.]+ ms$/.test(" + latency_a + ") && /^[0-9.]+ ms$/.test(" + latency_b + ")", 5s));
  CHECK(page.evaluate("parseFloat(" + latency_a + ") > 2 * parseFloat(" + latency_b + ")") == true);
  CHECK(page.evaluate(card_a + ".dataset.healthy") == "true");  // a gray failure: its health check passes

  // The room switches the pool to least-latency from its select.
  page.evaluate("(() => { const select = " + pool + ".querySelector('select[data-field=\"algorithm\"]');"
                " select.value = 'least-latency'; select.dispatchEvent(new Event('change')); })()");
  REQUIRE(eventually([&] {
    const nlohmann::json status = nlohmann::json::parse(http_get(admin_port, "/status").body);
    return status["pools"][0]["algorithm"] == "least-latency";
  }, 5s));
  REQUIRE(page.wait_for(pool + ".dataset.algorithm === 'least-latency'", 5s));
  CHECK(page.evaluate(pool + ".querySelector('select[data-field=\"algorithm\"]').value") == "least-latency");
  CHECK(page.evaluate("document.getElementById('events').textContent.includes('pool default: round-robin -> "
                      "least-latency')") == true);
  int to_b = 0;
  for (int i = 0; i < 10; ++i) {
    RawResponse response = http_get(lb.port(), "/slow?ms=30");
    REQUIRE(response.status == 200);
    to_b += nlohmann::json::parse(response.body)["server_id"] == b.id();
  }
  CHECK(to_b >= 8);  // the slow one is avoided

  // Every number the room watches is drawn: per backend, and the pool's.
  const auto text_of = [&](const std::string& scope, const std::string& field) {
    return scope + ".querySelector('[data-field=\"" + field + "\"]').textContent";
  };
  REQUIRE(page.wait_for("/^[0-9]+ \\/ (no limit|[0-9]+)$/.test(" + text_of(card_a, "in_flight") + ")", 5s));
  REQUIRE(page.wait_for("/^[0-9.]+ ms$/.test(" + text_of(pool, "latency_p50_ms") + ") && /^[0-9.]+ ms$/.test(" +
                            text_of(pool, "latency_p99_ms") + ") && parseFloat(" + text_of(pool, "latency_p99_ms") +
                            ") > 0",
                        5s));
  CHECK(page.evaluate("/^[0-9]+$/.test(" + text_of(pool, "queued") + ")") == true);
  CHECK(page.evaluate(text_of(pool, "max_requests")) == "no limit");
  CHECK(page.evaluate(text_of(pool, "hedge_after")) == "off");

  page.evaluate(card_a + ".querySelector('[data-action=\"clear-fault\"]').click()");
  REQUIRE(page.wait_for(card_a + ".dataset.fault === 'none'", 5s));
}

int main(int argc, char* argv[]) {
  std::signal(SIGPIPE, SIG_IGN);
  std::optional<std::string> browser = find_chromium();
  if (!browser) {
    std::printf("SKIPPED: no Chromium found (looked for chromium, chromium-browser, google-chrome on PATH);\n"
                "install it with `apt-get install -y chromium` or set CHROMIUM=/path/to/chrome\n");
    return kSkipped;
  }
  chromium() = *browser;
  return Catch::Session().run(argc, argv);
}
