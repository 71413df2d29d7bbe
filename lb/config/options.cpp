#include "lb/config/options.h"

#include <CLI/CLI.hpp>

#include <cmath>
#include <iostream>

#include "lb/balancing/selector.h"
#include "lb/config/config_text.h"
#include "lb/config/json_config.h"
#include "lb/config/pool_config.h"
#include "lb/http/http_headers.h"
#include "lb/operations/span_exporter.h"
#include "lb/protection/redis_rate_limiter.h"
#include "lb/routing/header_rules.h"

namespace lb {

namespace {

Millis seconds_to_millis(double seconds) { return Millis(static_cast<long>(std::llround(seconds * 1000.0))); }

// A duration flag in seconds; fractions allowed, must be > 0.
void add_seconds(CLI::App& app, const std::string& name, double& target, const std::string& help) {
  app.add_option(name, target, help)->check(CLI::PositiveNumber)->capture_default_str();
}

// --max-requests or --hedge-after (RequestLimit or HedgePolicy) from its text.
template <typename Tuning>
Tuning parse_tuning(const std::string& text, const std::string& flag, const std::string& expected) {
  const std::optional<Tuning> tuning = Tuning::parse(text);
  if (!tuning) throw OptionsError(flag + ": '" + text + "' is not " + expected);
  return *tuning;
}

// Flag values that are not yet in their final type.
struct RawFlags {
  std::vector<std::string> backends;
  std::vector<std::string> routes;
  double connect_timeout = 5, backend_timeout = 60, client_timeout = 60, keepalive_timeout = 60,
         header_timeout = 10, tunnel_idle_timeout = 3600;
  double cb_window = 10, cb_open = 30;
  double try_timeout = 0;  // 0: the same as --backend-timeout
  double eject_seconds = 10, slow_start = 0, latency_decay = 10;
  std::string max_requests = "0", hedge_after = "off";
  double queue_timeout = 2;
  size_t queue_size = 1000;
  std::string forwarded = "x-forwarded";
  std::vector<std::string> resolvers;  // --resolver HOST[:PORT]
};

void define_flags(CLI::App& app, Options& o, RawFlags& raw, std::shared_ptr<JsonConfig> config,
                  const std::string& given_config_file) {
  app.add_option("-b,--backend", raw.backends,
                 "Backend [POOL=]URL[,weight=N]: http://host:port or https://host:port, weight 1-1000, "
                 "in pool POOL (default: default); repeatable");
  app.add_option("--route", raw.routes,
                 "MATCH=POOL: requests whose host and path MATCH (HOST, HOST/PATH or /PATH) go to POOL; "
                 "first match wins, none: 404; repeatable");
  // DNS SRV discovery (README "Backends from DNS SRV")
  app.add_option("--resolver", raw.resolvers,
                 "DNS server HOST[:PORT] (an IP address, port 53 by default) for srv+http:// backends and backend "
                 "host names; repeatable (default: the system's)");
  app.config_formatter(std::move(config));
  app.set_config("--config", given_config_file, "JSON file with the same settings (keys = flag names); flags override it");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.add_flag("--check", o.check_only, "Validate flags and config, print what would run, exit 0 (or 2)");
  app.add_option("-p,--port", o.port, "Listening port (0 picks a free one)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--bind", o.bind, "Listening address (IPv6: ::)")->capture_default_str();

  // Balancing
  app.add_option("--algorithm", o.policy.algorithm,
                 "round-robin (smooth weighted), least-connections or least-latency")
      ->check(CLI::IsMember(algorithm_names()))
      ->capture_default_str();
  add_seconds(app, "--latency-decay", raw.latency_decay,
              "Seconds over which least-latency forgets a backend's response times");
  app.add_option("--max-requests", raw.max_requests,
                 "Requests in flight per backend, more wait in the pool's queue: N, 0 = no limit, or auto (learned)")
      ->capture_default_str();
  add_seconds(app, "--queue-timeout", raw.queue_timeout, "Seconds a request waits for a place (then 503)");
  app.add_option("--queue-size", raw.queue_size, "Requests that may wait in a pool's queue (more: 503 at once)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--hedge-after", raw.hedge_after,
                 "MS, auto (the pool's p95) or off: a body-less replayable request also goes to a second backend "
                 "when its first has not answered by then")
      ->capture_default_str();
  app.add_option("--sticky-cookie", o.policy.sticky_cookie, "Cookie name for session persistence (off when unset)");
  app.add_option("--sticky-secret", o.policy.sticky_secret,
                 "Secret mixed into sticky cookie values (same on every instance)");

  // Health
  app.add_option("--health-path", o.health_path, "Health check target; 2xx is healthy")->capture_default_str();
  add_seconds(app, "--health-interval", o.health_interval, "Seconds between health checks");
  add_seconds(app, "--health-timeout", o.health_timeout, "Per-check timeout in seconds");
  app.add_option("--health-rise", o.backend.rise, "Consecutive passed checks to bring a backend back")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--health-fall", o.backend.fall, "Consecutive failed checks to take a backend out")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();

  // Circuit breaker
  app.add_option("--cb-failure-ratio", o.backend.circuit.failure_ratio,
                 "Failure ratio (connect errors, timeouts, 5xx) that opens a backend's circuit")
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  app.add_option("--cb-min-requests", o.backend.circuit.min_requests, "Requests in the window before it can open")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  add_seconds(app, "--cb-window", raw.cb_window, "Seconds of the circuit breaker's rolling window");
  add_seconds(app, "--cb-open-seconds", raw.cb_open, "Seconds an open circuit rejects traffic before trials");
  app.add_option("--cb-half-open-trials", o.backend.circuit.half_open_trials,
                 "Trial requests in half-open; all must succeed to close")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();

  // Rate limiting
  app.add_option("--rate-limit", o.rate_limit, "Requests per second per client IP (token bucket); off when unset")
      ->check(CLI::PositiveNumber);
  app.add_option("--rate-burst", o.rate_burst, "Token bucket size (default: the rate, at least 1)")
      ->check(CLI::PositiveNumber);
  app.add_option("--rate-limit-redis", o.rate_limit_redis,
                 "redis://host:port[/db]: keep the buckets in Redis, one limit for every instance using it");
  app.add_option("--trusted-proxy", o.trusted_proxies,
                 "CIDR whose X-Forwarded-For names the real client (repeatable)");
  app.add_option("--proxy-protocol-from", o.proxy_protocol_from,
                 "CIDR of L4 balancers that begin each connection with a PROXY protocol v1/v2 header (repeatable)");
  app.add_option("--allow", o.allow, "CIDR of clients that may be served; others get 403 (repeatable)");
  app.add_option("--deny", o.deny, "CIDR of clients refused with 403, checked before --allow (repeatable)");

  // Timeouts and limits
  add_seconds(app, "--connect-timeout", raw.connect_timeout, "Seconds to connect to a backend");
  add_seconds(app, "--backend-timeout", raw.backend_timeout, "Seconds to wait for backend response bytes (then 504)");
  add_seconds(app, "--client-timeout", raw.client_timeout, "Seconds to wait for client body bytes or writes");
  add_seconds(app, "--keepalive-timeout", raw.keepalive_timeout, "Seconds an idle client connection is kept");
  add_seconds(app, "--header-timeout", raw.header_timeout, "Seconds to receive a whole request head (then 408)");
  add_seconds(app, "--tunnel-idle-timeout", raw.tunnel_idle_timeout, "Seconds an upgraded (WebSocket) tunnel may idle");
  app.add_option("--max-connections", o.max_connections, "Client connections served at once; more wait in the backlog")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--max-body-size", o.proxy.max_body_bytes, "Largest request body in bytes, 0 = unlimited (then 413)")
      ->capture_default_str();
  app.add_option("--max-header-size", o.proxy.max_header_bytes, "Largest request head in bytes (then 431)")
      ->check(CLI::Range(1024, 1024 * 1024))
      ->capture_default_str();
  app.add_option("--upstream-keepalive", o.backend.max_idle_connections, "Idle connections kept open per backend")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  app.add_option("--retries", o.proxy.retries, "Extra backends to try when a request cannot reach its backend")
      ->check(CLI::Range(0, 10))
      ->capture_default_str();
  app.add_option("--retry-on-status", o.proxy.retry_on_status,
                 "5xx status (repeatable, or comma-separated) that a replayable request is retried on another backend "
                 "for, as for a failure (nginx proxy_next_upstream http_503); off when unset")
      ->delimiter(',')
      ->check(CLI::Range(500, 599));
  app.add_option("--try-timeout", raw.try_timeout,
                 "Seconds a replayable request waits for a backend's first byte before it is retried elsewhere "
                 "(default: --backend-timeout)")
      ->check(CLI::PositiveNumber);
  app.add_option("--retry-budget", o.proxy.retry_budget_percent,
                 "Retries at most this percent of the requests of the last 10 s (and at least 3 a second)")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();

  // Passive health: outlier ejection and slow start
  app.add_option("--eject-after", o.ejection.after,
                 "Consecutive failures (5xx, connect errors, timeouts) that eject a backend; 0 = off")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  add_seconds(app, "--eject-seconds", raw.eject_seconds,
              "Seconds of a first ejection; each one in a row doubles it, up to 300");
  app.add_option("--slow-start", raw.slow_start,
                 "Seconds a returning backend takes to ramp from 10% to its full weight; 0 = off")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  add_seconds(app, "--drain-timeout", o.drain_timeout, "Seconds to let in-flight requests finish on stop");

  // TLS
  app.add_option("--tls-cert", o.tls_certs, "Certificate (PEM chain) to serve HTTPS; repeat with --tls-key for SNI");
  app.add_option("--tls-key", o.tls_keys, "Private key for the --tls-cert at the same position");
  app.add_flag("--no-http2", o.no_http2, "On TLS, offer only http/1.1 in ALPN (h2 is offered first by default)");
  app.add_flag("--h2c", o.proxy.h2c, "Also accept HTTP/2 with prior knowledge on plain listeners");
  app.add_option("--h2-max-streams", o.proxy.h2_max_streams, "Concurrent streams per HTTP/2 connection")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--tls-client-ca", o.tls_client_ca,
                 "CA file (PEM): ask TLS clients for a certificate it signed; the subject goes to backends in "
                 "X-Client-Cert-Subject");
  app.add_option("--tls-client-verify", o.tls_client_verify,
                 "required (no valid client certificate: no handshake) or optional (none: let in without one)")
      ->check(CLI::IsMember({"required", "optional"}))
      ->capture_default_str();
  app.add_option("--redirect-http", o.redirect_http_port, "Also listen for plain HTTP on this port and answer 308 to HTTPS")
      ->check(CLI::Range(0, 65535));
  app.add_option("--acme-domain", o.acme.names,
                 "A name to get a certificate for from the ACME server, and renew (repeatable; serves HTTPS)");
  app.add_option("--acme-directory", o.acme.directory_url, "The ACME server's directory URL")->capture_default_str();
  app.add_option("--acme-email", o.acme.email, "Contact address for the ACME account (expiry notices)");
  app.add_option("--acme-state", o.acme.state_dir, "Folder for the ACME account key and certificates (0600 files)")
      ->capture_default_str();
  app.add_option("--acme-ca", o.acme.ca_file, "CA bundle to trust the ACME server with (private or test servers)");
  app.add_option("--backend-ca", o.backend_ca, "CA file that signs https:// backends' certificates")
      ->check(CLI::ExistingFile);
  app.add_flag("--backend-insecure", o.backend_insecure, "Do not verify https:// backends' certificates");
  app.add_option("--backend-cert", o.backend_cert, "Client certificate (PEM chain) shown to https:// backends")
      ->check(CLI::ExistingFile);
  app.add_option("--backend-key", o.backend_key, "Private key of --backend-cert")->check(CLI::ExistingFile);

  // Operations
  app.add_option("--admin-port", o.admin_port, "Admin server port: /status, /metrics, dashboard (0: a free one)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--admin-bind", o.admin_bind, "Admin server address")->capture_default_str();
  app.add_option("--admin-token", o.admin_token, "Bearer token the admin server requires (none when unset)");

  app.add_option("--access-log", o.access_log, "Access log: a file, or - for stdout (off when unset)");
  app.add_option("--access-log-format", o.access_log_format, "combined (nginx style + backend, timings) or json")
      ->check(CLI::IsMember({"combined", "json"}))
      ->capture_default_str();
  app.add_flag("--trace-header", o.proxy.trace_header,
               "Add X-LB-Trace to responses: which backend was chosen and why");
  app.add_option("--otlp-endpoint", o.otlp_endpoint,
                 "OTLP/HTTP receiver for spans (JSON), e.g. http://127.0.0.1:4318; POST to /v1/traces unless "
                 "the URL has a path (off when unset)");
  app.add_option("--otlp-service-name", o.otlp_service_name, "service.name of the spans --otlp-endpoint exports")
      ->capture_default_str();

  // Headers
  app.add_option("--forwarded-headers", raw.forwarded,
                 "Client address headers to send: x-forwarded, forwarded (RFC 7239) or both")
      ->check(CLI::IsMember({"x-forwarded", "forwarded", "both"}))
      ->capture_default_str();
  app.add_option("--via-name", o.proxy.via_name, "Name in the Via header we add")->capture_default_str();

  // Compression
  app.add_flag("--compress", o.proxy.compress,
               "Compress textual responses with zstd, br or gzip, as the client's Accept-Encoding prefers");
  app.add_option("--compress-min-size", o.proxy.compress_min_size,
                 "Bodies shorter than this (by Content-Length) are not compressed; an unknown length counts as large")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            // Digits only: CLI11 would wrap "-1" round to 2^64-1.
            const bool digits =
                !text.empty() && text.size() <= 18 && text.find_first_not_of("0123456789") == std::string::npos;
            return digits ? "" : "expected a number of bytes, got '" + text + "'";
          },
          "BYTES"))
      ->capture_default_str();
  // Shared configuration (README "One configuration in etcd")
  app.add_option("--config-etcd", o.config_etcd,
                 "http://HOST:PORT of etcd: the JSON config is read from --config-etcd-key there, applied at every "
                 "change, and admin backend changes are written to it");
  app.add_option("--config-etcd-key", o.config_etcd_key, "The etcd key holding the JSON config")->capture_default_str();

  app.add_option("--request-id-header", o.proxy.request_id_header,
                 "Header carrying a request id (X-Request-ID is usual): kept if sent, else a random one; "
                 "forwarded, returned and logged (off when unset)");
}

// Settings that need another one: a certificate its key, a limit's store or
// burst the limit, the client CA a certificate to be asked over.
void check_pairs(const CLI::App& app, const Options& o) {
  if (o.tls_certs.size() != o.tls_keys.size()) {
    throw OptionsError("--tls-cert/--tls-key: give one key per certificate (" + std::to_string(o.tls_certs.size()) +
                       " certificates, " + std::to_string(o.tls_keys.size()) + " keys)");
  }
  if (o.redirect_http_port >= 0 && o.tls_certs.empty() && !o.acme.enabled()) {
    throw OptionsError("--redirect-http: needs --tls-cert or --acme-domain");
  }
  if (!o.tls_client_ca.empty() && o.tls_certs.empty() && !o.acme.enabled()) {
    throw OptionsError("--tls-client-ca: needs --tls-cert or --acme-domain");
  }
  if (app.count("--tls-client-verify") && o.tls_client_ca.empty()) {
    throw OptionsError("--tls-client-verify: needs --tls-client-ca");
  }
  if (o.backend_cert.empty() != o.backend_key.empty()) {
    throw OptionsError("--backend-cert/--backend-key: give both, the certificate and its key");
  }
  if (app.count("--rate-burst") && !app.count("--rate-limit")) throw OptionsError("--rate-burst: needs --rate-limit");
  if (!o.rate_limit_redis.empty() && o.rate_limit <= 0) throw OptionsError("--rate-limit-redis: needs --rate-limit");
}

}  // namespace

Options parse_options(int argc, const char* const* argv, const std::string* config_text) {
  Options o;
  RawFlags raw;
  CLI::App app{"load_balancer: an HTTP/1.1 load balancer (thread per connection)", "load_balancer"};
  auto config = std::make_shared<JsonConfig>();
  // A config from etcd is read by CLI11 as a default --config file would be.
  std::unique_ptr<PrivateConfigFile> given;
  std::vector<std::string> arguments;
  std::vector<const char*> kept;
  const std::string source = config_text ? "the config in etcd" : "--config";
  if (config_text) {
    try {
      given = std::make_unique<PrivateConfigFile>(*config_text);
    } catch (const std::runtime_error& e) {
      throw OptionsError(e.what());
    }
    arguments = without_backends_and_routes(argc, argv);
    for (const std::string& argument : arguments) kept.push_back(argument.c_str());
    argc = static_cast<int>(kept.size());
    argv = kept.data();
  }
  define_flags(app, o, raw, config, given ? given->path() : "");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    throw HelpRequested{};
  } catch (const CLI::ConfigError& e) {
    // CLI11 words unknown keys as "INI was not able to parse KEY".
    std::string message = e.what();
    const std::string prefix = "INI was not able to parse ";
    if (message.rfind(prefix, 0) == 0) message = "unknown key '" + message.substr(prefix.size()) + "'";
    throw OptionsError(source + ": " + message);
  } catch (const CLI::FileError& e) {
    throw OptionsError(source + ": " + e.what());
  } catch (const CLI::ParseError& e) {
    throw OptionsError(e.what());
  }

  if (!o.config_etcd.empty()) {
    if (!config_text && app.count("--config")) throw OptionsError("--config-etcd: the config comes from etcd; drop --config");
    if (o.config_etcd.rfind("http://", 0) != 0 || o.config_etcd.size() <= 7) {
      throw OptionsError("--config-etcd: '" + o.config_etcd + "' is not http://HOST:PORT");
    }
    if (o.config_etcd_key.empty()) throw OptionsError("--config-etcd-key: must not be empty");
  }
  if (o.health_path.empty() || o.health_path.front() != '/') throw OptionsError("--health-path: must start with '/'");
  if (app.count("--sticky-cookie") && !is_token(o.policy.sticky_cookie)) {
    throw OptionsError("--sticky-cookie: '" + o.policy.sticky_cookie + "' is not a valid cookie name");
  }
  // Flags only, with the rest of the config still to come from etcd: a
  // setting may need one that is there (checked again once it is read).
  if (o.config_etcd.empty() || config_text) check_pairs(app, o);
  o.acme.http01 = o.redirect_http_port >= 0;
  if (const std::string problem = acme::acme_settings_problem(o.acme); !problem.empty()) throw OptionsError(problem);
  if (!is_token(o.proxy.via_name)) throw OptionsError("--via-name: must be a single token");
  if (app.count("--request-id-header") && !header_rule_refusal(o.proxy.request_id_header).empty()) {
    throw OptionsError("--request-id-header: " + header_rule_refusal(o.proxy.request_id_header));
  }
  if (!o.otlp_endpoint.empty()) {
    try {
      parse_otlp_endpoint(o.otlp_endpoint);
    } catch (const std::invalid_argument& e) {
      throw OptionsError(std::string("--otlp-endpoint: ") + e.what());
    }
  }
  if (o.otlp_service_name.empty()) throw OptionsError("--otlp-service-name: must not be empty");
  if (!o.rate_limit_redis.empty()) {
    try {
      parse_redis_url(o.rate_limit_redis);
    } catch (const std::invalid_argument& e) {
      throw OptionsError(std::string("--rate-limit-redis: ") + e.what());
    }
  }
  if (o.rate_limit > 0 && o.rate_burst == 0) o.rate_burst = std::max(1.0, o.rate_limit);
  try {
    TrustedProxies::parse(o.trusted_proxies);
  } catch (const std::invalid_argument& e) {
    throw OptionsError(std::string("--trusted-proxy: ") + e.what());
  }
  try {
    TrustedProxies::parse(o.proxy_protocol_from);
  } catch (const std::invalid_argument& e) {
    throw OptionsError(std::string("--proxy-protocol-from: ") + e.what());
  }
  try {
    AccessList::parse(o.allow, o.deny);
  } catch (const std::invalid_argument& e) {
    throw OptionsError(e.what());
  }

  o.backend.circuit.window = seconds_to_millis(raw.cb_window);
  o.backend.circuit.open_for = seconds_to_millis(raw.cb_open);
  o.proxy.connect_timeout = seconds_to_millis(raw.connect_timeout);
  o.proxy.backend_timeout = seconds_to_millis(raw.backend_timeout);
  o.proxy.try_timeout = raw.try_timeout > 0 ? std::min(seconds_to_millis(raw.try_timeout), o.proxy.backend_timeout)
                                            : o.proxy.backend_timeout;
  o.ejection.base = seconds_to_millis(raw.eject_seconds);
  o.ejection.max = std::max(o.ejection.base, Millis(300000));
  o.backend.slow_start = seconds_to_millis(raw.slow_start);
  o.backend.latency_decay = seconds_to_millis(raw.latency_decay);
  o.proxy.client_timeout = seconds_to_millis(raw.client_timeout);
  o.proxy.keepalive_timeout = seconds_to_millis(raw.keepalive_timeout);
  o.proxy.header_timeout = seconds_to_millis(raw.header_timeout);
  o.proxy.tunnel_idle_timeout = seconds_to_millis(raw.tunnel_idle_timeout);
  o.proxy.x_forwarded_headers = raw.forwarded != "forwarded";
  o.proxy.forwarded_header = raw.forwarded != "x-forwarded";

  for (const std::string& text : raw.resolvers) {
    try {
      o.resolvers.push_back(parse_dns_server(text));
    } catch (const std::invalid_argument& e) {
      throw OptionsError(std::string("--resolver: ") + e.what());
    }
  }

  PoolSettings defaults;
  defaults.policy = o.policy;
  defaults.health_path = o.health_path;
  defaults.health_interval = seconds_to_millis(o.health_interval);
  defaults.health_timeout = seconds_to_millis(o.health_timeout);
  defaults.max_requests = parse_tuning<RequestLimit>(raw.max_requests, "--max-requests", "N (0-100000) or auto");
  defaults.hedge = parse_tuning<HedgePolicy>(raw.hedge_after, "--hedge-after", "MS (1-60000), auto or off");
  defaults.queue.timeout = seconds_to_millis(raw.queue_timeout);
  defaults.queue.size = raw.queue_size;
  defaults.backend_tls = {!o.backend_insecure, o.backend_ca, {o.backend_cert, o.backend_key}};
  o.pools = build_pools(raw.backends, config->structured("pools"), defaults);
  o.routes = build_routes(raw.routes, config->structured("routes"));
  // With --config-etcd the backends may all come from etcd: none yet is no error here.
  if (!(o.pools.empty() && !o.config_etcd.empty() && !config_text)) {
    check_pools_and_routes(o.pools, o.routes, o.check_only, o.warnings);
  }
  return o;
}

}  // namespace lb
