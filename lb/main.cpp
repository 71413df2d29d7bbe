// load_balancer: parse flags, check backends once, then listen and proxy until
// SIGINT/SIGTERM. The request path itself starts in lb/proxy/http1_connection.cpp (then lb/proxy/exchange.h).
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>

#include "common/control_signals.h"
#include "common/log.h"
#include "lb/acme/certificate_manager.h"
#include "lb/balancing/balancer.h"
#include "lb/balancing/health_checker.h"
#include "lb/balancing/srv_discovery.h"
#include "lb/config/live_config.h"
#include "lb/config/options.h"
#include "lb/config/restart_settings.h"
#include "lb/config/shared_config.h"
#include "lb/http/response_compressor.h"
#include "lb/operations/admin_server.h"
#include "lb/operations/binary_upgrade.h"
#include "lb/operations/redirect_server.h"
#include "lb/operations/service_notify.h"
#include "lb/proxy/proxy_server.h"
#include "lb/transport/tls_context.h"

namespace {

lb::Millis to_millis(double seconds) { return lb::Millis(static_cast<long>(seconds * 1000)); }

std::string describe(const lb::Options& options) {
  std::size_t backends = 0;
  std::size_t srv_sources = 0;  // srv+http:// entries: their backends come later
  for (const auto& pool : options.pools) {
    backends += pool.backends.size();
    srv_sources += pool.settings.srv_sources.size();
  }
  std::string text = std::to_string(backends) + " backends";
  if (srv_sources > 0) text += " + " + std::to_string(srv_sources) + " DNS SRV sources";
  if (options.pools.size() > 1 || !options.routes.empty()) {
    text += " in " + std::to_string(options.pools.size()) + " pools, " + std::to_string(options.routes.size()) + " routes";
  }
  const lb::PoolSettings& first = options.pools.front().settings;
  text += ", " + first.policy.algorithm;
  if (!first.policy.sticky_cookie.empty()) text += ", sticky cookie " + first.policy.sticky_cookie;
  if (first.max_requests.limited()) text += ", max " + first.max_requests.text() + " requests per backend";
  if (first.hedge.mode != lb::HedgePolicy::Mode::Off) {
    text += ", hedge after " + first.hedge.text() + (first.hedge.mode == lb::HedgePolicy::Mode::Fixed ? " ms" : "");
  }
  if (options.rate_limit > 0) {
    char rate[32];
    std::snprintf(rate, sizeof rate, "%g", options.rate_limit);
    text += std::string(", rate limit ") + rate + "/s per client";
  }
  char interval[32];
  std::snprintf(interval, sizeof interval, "%g", first.health_interval.count() / 1000.0);
  return text + ", health check " + first.health_path + " every " + interval + " s";
}

// What the health checker probes: every pool of the running Topology.
std::vector<lb::HealthTarget> health_targets(const lb::Balancer& balancer) {
  std::vector<lb::HealthTarget> targets;
  // Held for the loop: a range-for would drop the temporary before the body runs.
  const std::shared_ptr<const lb::Topology> topology = balancer.current();
  for (const auto& pool : topology->pools) {
    const lb::PoolSettings& settings = pool->settings;
    targets.push_back({settings.name, settings.health_path, settings.health_interval, pool->backends,
                       settings.health_timeout, settings.backend_tls});
  }
  return targets;
}

// The options that run now, and the one way the live settings change: a
// SIGHUP and a new ACME certificate both rebuild them, one at a time.
struct RunningOptions {
  std::mutex mutex;  // guards `options` and every context.live.replace()
  lb::Options options;
  const lb::acme::CertificateManager* acme = nullptr;
};

// A new ACME certificate: the TLS listener's certificates are rebuilt with
// it; open connections keep the context they began with.
void install_certificates(RunningOptions& running, lb::ProxyContext& context) {
  std::lock_guard<std::mutex> lock(running.mutex);
  try {
    context.live.replace(
        lb::build_live_settings(running.options, context.live.current().get(), context.metrics, running.acme));
  } catch (const std::exception& e) {
    common::log_line(std::string("[ACME] new certificate not installed: ") + e.what());
  }
}

// SIGHUP: read flags and --config again and apply everything but the
// listening and admin addresses: pools, routes, backends and their settings,
// health, circuit breaker, retries, ejection, timeouts, limits, rate limit,
// trusted proxies, TLS certificates and client CA, and each pool's backend CA
// and client certificate. Everything is checked first (a bad file or
// certificate changes nothing); then the pools and routes (with their backend
// TLS contexts), and the live settings, are each swapped in one step.
// `config_text`: the config from etcd instead of --config's file. True if applied.
bool reload(const std::vector<std::string>& arguments, const lb::Options& started, RunningOptions& running,
            lb::ProxyContext& context, lb::HealthChecker& health_checker, const std::string* config_text = nullptr) {
  std::vector<const char*> argv;
  for (const auto& argument : arguments) argv.push_back(argument.c_str());
  lb::Options fresh;
  std::lock_guard<std::mutex> lock(running.mutex);
  try {
    fresh = lb::parse_options(static_cast<int>(argv.size()), argv.data(), config_text);
    if (fresh.pools.empty()) throw std::runtime_error("no backends (--config-etcd has no config yet)");
    auto live = lb::build_live_settings(fresh, context.live.current().get(), context.metrics, running.acme);
    lb::load_backend_tls(fresh.pools);
    context.balancer.reconfigure(fresh.backend, fresh.pools, fresh.routes);
    context.live.replace(live);
  } catch (const std::exception& e) {
    common::log_line(std::string("[Reload] rejected: ") + e.what() + "; keeping the running configuration");
    return false;
  }
  running.options = fresh;
  context.retry_budget.set_percent(fresh.proxy.retry_budget_percent);
  context.ejector.set_settings(fresh.ejection);
  health_checker.run_round();  // new backends join rotation now, not after an interval
  common::log_line("[Reload] applied: " + describe(fresh));
  const std::vector<std::string> not_applied = lb::settings_needing_restart(started, fresh);
  if (!not_applied.empty()) {
    std::string flags;
    for (const std::string& flag : not_applied) flags += (flags.empty() ? "" : ", ") + flag;
    common::log_line("[Reload] " + flags + " changed: they need a restart (or SIGUSR2)");
  }
  return true;
}

// SIGUSR2: start the binary again on our listening sockets; once it serves,
// stop accepting here and drain like a SIGTERM (but the sockets stay open for
// it, and systemd hears from the new process, not STOPPING=1 from this one).
// True when it took over.
constexpr std::chrono::seconds kUpgradeReadyTimeout{30};

bool upgrade_binary(const lb::BinaryUpgrade& upgrade, lb::ProxyServer& server, lb::AdminServer* admin,
                    lb::RedirectServer* redirect) {
  std::vector<lb::HandedListener> listeners{{"proxy", server.listening_socket()}};
  if (admin) listeners.push_back({"admin", admin->listener().listening_socket()});
  if (redirect) listeners.push_back({"redirect", redirect->listener().listening_socket()});
  common::log_line("[Upgrade] SIGUSR2: starting " + upgrade.path());
  std::string error;
  pid_t successor = 0;
  if (!upgrade.start_successor(listeners, kUpgradeReadyTimeout, successor, error)) {
    common::log_line("[Upgrade] failed, still serving: " + error);
    return false;
  }
  common::log_line("[Upgrade] new process " + std::to_string(successor) +
                   " serves; no new connections here; finishing in-flight requests");
  if (admin) admin->listener().hand_over();
  if (redirect) redirect->listener().hand_over();
  server.hand_over();
  return true;
}

// --check's lines on how https:// backends are reached, for pools that have one.
void print_backend_tls(const std::vector<lb::PoolSpec>& pools) {
  for (const auto& pool : pools) {
    const bool https = std::any_of(pool.backends.begin(), pool.backends.end(),
                                   [](const lb::BackendSpec& backend) { return backend.scheme == "https"; });
    const lb::TlsClientFiles& tls = pool.settings.backend_tls;
    if (!https && tls.ca_file.empty() && tls.certificate.cert_file.empty()) continue;
    std::printf("  backend tls %s: %s%s%s%s\n", pool.settings.name.c_str(),
                !tls.verify ? "not verified" : tls.ca_file.empty() ? "CA system store" : "CA ",
                tls.verify ? tls.ca_file.c_str() : "", tls.certificate.cert_file.empty() ? "" : ", client certificate ",
                tls.certificate.cert_file.c_str());
  }
}

// What --check prints: everything that would run, like `nginx -t`.
// --compress (or a route's "compress"): the codings in the order ties go,
// their levels, the minimum size.
void print_compression(const lb::Options& options) {
  const bool any_route = std::any_of(options.routes.begin(), options.routes.end(),
                                     [](const lb::Route& route) { return route.compress.value_or(false); });
  if (!options.proxy.compress && !any_route) return;
  const lb::CompressionLevels levels;
  std::printf("  compress   %s: zstd %d, br %d, gzip %d, as Accept-Encoding prefers; textual types from %llu bytes\n",
              options.proxy.compress ? "on" : "on marked routes", levels.zstd, levels.brotli, levels.gzip,
              static_cast<unsigned long long>(options.proxy.compress_min_size));
}

void print_plan(const lb::Options& options) {
  std::printf("load_balancer: configuration OK\n");
  std::printf("  listen     %s:%d\n", options.bind.c_str(), options.port);
  const bool single_pool = options.routes.empty() && options.pools.size() == 1;  // the tutorial's set-up
  for (const auto& pool : options.pools) {
    if (single_pool) {
      for (const auto& backend : pool.backends) {
        std::printf("  backend    %s weight=%d\n", backend.url().c_str(), backend.weight);
      }
      for (const auto& source : pool.settings.srv_sources) std::printf("  backend    %s (DNS SRV)\n", source.url().c_str());
      break;
    }
    const lb::PoolSettings& settings = pool.settings;
    char interval[32];
    std::snprintf(interval, sizeof interval, "%g", settings.health_interval.count() / 1000.0);
    std::printf("  pool       %s: %s%s%s, health %s every %s s\n", settings.name.c_str(),
                settings.policy.algorithm.c_str(), settings.policy.sticky_cookie.empty() ? "" : ", sticky cookie ",
                settings.policy.sticky_cookie.c_str(), settings.health_path.c_str(), interval);
    for (const auto& backend : pool.backends) {
      std::printf("    backend  %s weight=%d\n", backend.url().c_str(), backend.weight);
    }
    for (const auto& source : settings.srv_sources) std::printf("    backend  %s (DNS SRV)\n", source.url().c_str());
  }
  if (options.routes.empty() && !single_pool) std::printf("  route      every request -> default\n");
  for (size_t i = 0; i < options.routes.size(); ++i) {
    const lb::Route& route = options.routes[i];
    std::string edge;
    if (route.compress) edge += *route.compress ? " (compress)" : " (no compress)";
    if (!route.access.empty()) edge += ", allow/deny";
    if (route.basic_auth) {
      edge += ", basic auth \"" + route.basic_auth->realm + "\" (" + std::to_string(route.basic_auth->users->size()) +
              " users in " + route.basic_auth->users->path() + ")";
    }
    if (route.forward_auth) edge += ", forward auth " + route.forward_auth->url;
    std::printf("  %-10s %s -> %s%s%s\n", ("route " + std::to_string(i + 1)).c_str(),
                route.match_text().c_str(), route.pool.c_str(),
                route.strip_prefix ? " (strip-prefix)" : "", edge.c_str());
  }
  if (!options.routes.empty()) std::printf("  no match   404\n");
  if (!options.allow.empty() || !options.deny.empty()) {
    std::printf("  access     %zu allow, %zu deny entries (deny first)\n", options.allow.size(), options.deny.size());
  }
  std::printf("  balancing  %s\n", describe(options).c_str());
  if (!options.tls_certs.empty()) std::printf("  tls        %zu certificate(s)\n", options.tls_certs.size());
  for (const std::string& name : options.acme.names) {
    std::printf("  acme       %s from %s, state in %s%s\n", name.c_str(), options.acme.directory_url.c_str(),
                options.acme.state_dir.c_str(), options.acme.http01 ? " (http-01, tls-alpn-01)" : " (tls-alpn-01)");
  }
  if (!options.tls_client_ca.empty()) {
    std::printf("  client ca  %s, certificate %s\n", options.tls_client_ca.c_str(), options.tls_client_verify.c_str());
  }
  print_backend_tls(options.pools);
  print_compression(options);
  if (!options.otlp_endpoint.empty()) std::printf("  traces     OTLP/HTTP to %s\n", options.otlp_endpoint.c_str());
  if (options.admin_port >= 0) std::printf("  admin      %s:%d\n", options.admin_bind.c_str(), options.admin_port);
  for (const auto& warning : options.warnings) std::printf("warning: %s\n", warning.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  lb::Options options;
  try {
    options = lb::parse_options(argc, argv);
  } catch (const lb::HelpRequested&) {
    return 0;
  } catch (const lb::OptionsError& e) {
    std::cerr << "load_balancer: " << e.what() << "\n";
    return 2;
  }
  // Certificates and the ACME state folder are checked before anything
  // starts (and by --check, which writes nothing but the folder).
  lb::Metrics metrics;
  std::shared_ptr<const lb::LiveSettings> live;
  std::unique_ptr<lb::acme::CertificateManager> acme;
  std::unique_ptr<lb::SharedConfig> shared_config;  // --config-etcd
  try {
    if (!options.config_etcd.empty()) {
      shared_config = std::make_unique<lb::SharedConfig>(options.config_etcd, options.config_etcd_key, metrics);
      options = shared_config->starting_options(argc, argv, std::move(options));
    }
    if (options.acme.enabled() && options.check_only) lb::acme::AcmeState(options.acme.state_dir).prepare();
    if (options.acme.enabled() && !options.check_only) {
      acme = std::make_unique<lb::acme::CertificateManager>(options.acme, lb::acme::make_acme_http(options.acme.ca_file));
    }
    live = lb::build_live_settings(options, nullptr, metrics, acme.get());
    lb::load_backend_tls(options.pools);
  } catch (const std::runtime_error& e) {
    std::cerr << "load_balancer: " << e.what() << "\n";
    return 2;
  }
  if (options.check_only) {
    print_plan(options);
    return 0;
  }
  lb::InheritedDescriptors inherited;  // a binary upgrade's or systemd's listening sockets
  try {
    inherited = lb::take_inherited_descriptors();
  } catch (const std::invalid_argument& e) {
    std::cerr << "load_balancer: " << e.what() << "\n";
    return 2;
  }
  // SIGINT/SIGTERM/SIGHUP wait, blocked, for the thread started below; one
  // that comes during start-up is taken as soon as it runs.
  common::ControlSignals signals(/*with_reload=*/true);
  signal(SIGPIPE, SIG_IGN);  // a vanished peer is an I/O error, not a process exit
  const std::vector<std::string> arguments(argv, argv + argc);

  lb::Balancer balancer(options.backend, options.pools, options.routes);
  lb::HealthChecker health_checker(
      [&balancer] { return health_targets(balancer); },
      lb::make_http_probe(), lb::backend_resolver(options.resolvers));
  // srv+http:// backends: looked up once now, then at each health interval (README "Backends from DNS SRV").
  lb::SrvDiscovery discovery(balancer, lb::dns_through(options.resolvers), [&health_checker] { health_checker.check_soon(); });
  discovery.refresh_all();
  // The first round runs before the listener opens, so the first request
  // already knows which backends are up.
  health_checker.run_round();

  std::unique_ptr<lb::AccessLog> access_log;
  if (!options.access_log.empty()) {
    try {
      access_log = std::make_unique<lb::AccessLog>(
          options.access_log,
          options.access_log_format == "json" ? lb::AccessLogFormat::Json : lb::AccessLogFormat::Combined);
    } catch (const std::runtime_error& e) {
      std::cerr << "load_balancer: " << e.what() << "\n";
      return 2;
    }
  }
  const bool https = live->tls != nullptr;
  lb::ProxyContext context{lb::LiveSettingsStore(live),
                           balancer,
                           access_log.get(),
                           metrics,
                           {},
                           lb::RetryBudget(options.proxy.retry_budget_percent),
                           lb::OutlierEjector(options.ejection)};
  std::unique_ptr<lb::SpanExporter> span_exporter;  // --otlp-endpoint (README "Traces")
  if (!options.otlp_endpoint.empty()) {
    lb::SpanExporterSettings trace_settings;
    trace_settings.endpoint = options.otlp_endpoint;
    trace_settings.service_name = options.otlp_service_name;
    span_exporter = std::make_unique<lb::SpanExporter>(trace_settings, metrics);
    span_exporter->start();
    context.spans = span_exporter.get();
  }
  RunningOptions running{{}, options, acme.get()};
  lb::RequestLog request_log;  // the admin server's live request view
  if (options.admin_port >= 0) context.request_log = &request_log;
  lb::ProxyServer server(context, options.max_connections, to_millis(options.drain_timeout));
  std::string error;
  error = inherited.proxy >= 0 ? server.adopt(inherited.proxy) : server.bind(options.bind, options.port);
  if (!error.empty()) {
    std::cerr << "load_balancer: " << error << "\n";
    return 2;
  }
  const int port = server.port();
  health_checker.start();
  discovery.start();

  std::unique_ptr<lb::RedirectServer> redirect;
  if (options.redirect_http_port >= 0) {
    redirect = std::make_unique<lb::RedirectServer>(port, acme ? &acme->board() : nullptr);
    int redirect_port = redirect->start(options.bind, options.redirect_http_port, error, inherited.redirect);
    if (redirect_port < 0) {
      std::cerr << "load_balancer: --redirect-http: " << error << "\n";
      return 2;
    }
    std::printf("redirect listening on %s:%d\n", options.bind.c_str(), redirect_port);
  }

  std::unique_ptr<lb::AdminServer> admin;
  if (options.admin_port >= 0) {
    admin = std::make_unique<lb::AdminServer>(
        lb::AdminContext{balancer, context.metrics, context.registry, std::chrono::steady_clock::now(),
                         [&health_checker] { health_checker.check_soon(); }, request_log, acme.get(),
                         shared_config ? shared_config->hooks() : lb::SharedConfigHooks{}},
        options.admin_token);
    int admin_port = admin->start(options.admin_bind, options.admin_port, error, inherited.admin);
    if (admin_port < 0) {
      std::cerr << "load_balancer: --admin-port: " << error << "\n";
      return 2;
    }
    std::printf("admin listening on %s:%d\n", options.admin_bind.c_str(), admin_port);
  }

  const lb::BinaryUpgrade upgrade(arguments);
  signals.start(
      [&](int signo) {
        common::log_line(std::string("[Load Balancer] ") + common::stop_signal_name(signo) +
                         ": no new connections; finishing in-flight requests");
        lb::notify_service_manager("STOPPING=1");
        server.shutdown();  // serve() returns at once if it has not begun
      },
      [&] {
        lb::notify_service_manager("RELOADING=1");
        const std::optional<std::string> etcd_config = shared_config ? shared_config->current_text() : std::nullopt;
        reload(arguments, options, running, context, health_checker, etcd_config ? &*etcd_config : nullptr);
        lb::notify_service_manager("READY=1");
      },
      [&] { return upgrade_binary(upgrade, server, admin.get(), redirect.get()); });

  if (shared_config) {
    shared_config->start([&](const std::string& text) {
      return reload(arguments, options, running, context, health_checker, &text);
    });
  }
  common::log_line("[Load Balancer] " + describe(options));
  for (const auto& warning : options.warnings) common::log_line("[Load Balancer] warning: " + warning);
  std::printf("load_balancer listening on %s:%d%s\n", options.bind.c_str(), port, https ? " (HTTPS)" : "");
  std::fflush(stdout);
  // The first health round is done and the socket listens (connections wait
  // in its backlog until serve() accepts them): ready, for a Type=notify unit
  // and for the process this one replaces, if any.
  lb::announce_ready(inherited);

  // The listeners are bound (a validator's connection waits in the backlog
  // until serve() accepts it): challenges can be answered from now on.
  if (acme) acme->start([&running, &context] { install_certificates(running, context); });

  server.serve();  // returns once stopped and drained (or the drain timed out)
  if (acme) acme->stop();
  if (shared_config) shared_config->stop();
  signals.join();  // it called shutdown(); let it finish before anything is destroyed
  request_log.stop();  // ends the request streams, so the admin server can stop
  if (admin) admin->stop();
  discovery.stop();
  health_checker.stop();
  if (span_exporter) span_exporter->stop();  // sends what the drained requests left (at most 2 s)
  std::size_t unfinished = context.registry.open_connections();
  if (unfinished > 0) {
    common::log_line("[Load Balancer] drain timeout: closing " + std::to_string(unfinished) + " connections");
    std::fflush(nullptr);
    std::_Exit(0);  // connection threads still hold references to this stack
  }
  common::log_line("[Load Balancer] stopped");
  return 0;
}
