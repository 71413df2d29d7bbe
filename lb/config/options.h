// Command-line options of load_balancer (CLI11 lives only here).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "lb/acme/acme_settings.h"
#include "lb/balancing/balancer.h"
#include "lb/balancing/outlier_ejector.h"
#include "lb/proxy/proxy_context.h"
#include "lb/transport/dns_lookup.h"

namespace lb {

struct Options {
  std::vector<PoolSpec> pools;   // --backend [POOL=]URL and the file's "pools"; "default" without names
  std::vector<Route> routes;     // --route or the file's "routes"; none: everything to "default"
  std::vector<std::string> warnings;  // --check: shadowed routes, pools no route names
  int port = 8000;  // 0 picks a free port
  std::string bind = "0.0.0.0";
  BalancingPolicy policy;   // algorithm, sticky cookie (a pool may have its own)
  BackendSettings backend;  // health thresholds, upstream keep-alive, circuit breaker
  std::string health_path = "/health";  // a pool may have its own
  double health_interval = 5;  // seconds; a pool may have its own
  double health_timeout = 2;   // seconds
  std::size_t max_connections = 10000;
  double drain_timeout = 10;   // seconds to finish in-flight requests on stop
  double rate_limit = 0;       // requests per second per client; 0 = off
  double rate_burst = 0;       // bucket size; 0 = same as rate_limit (at least 1)
  std::string rate_limit_redis;  // "" local buckets; else redis://host:port[/db], shared by instances
  std::vector<std::string> trusted_proxies;  // CIDRs whose X-Forwarded-For is believed
  std::vector<std::string> proxy_protocol_from;  // CIDRs that must begin with a PROXY header
  std::vector<std::string> allow;  // --allow CIDR: only these clients (none given: every client not denied)
  std::vector<std::string> deny;   // --deny CIDR: never these clients (checked first)
  std::vector<std::string> tls_certs;  // --tls-cert, paired in order with --tls-key
  std::vector<std::string> tls_keys;
  bool no_http2 = false;               // --no-http2: ALPN offers http/1.1 only
  std::string tls_client_ca;           // --tls-client-ca: ask TLS clients for a certificate from these CAs
  std::string tls_client_verify = "required";  // or "optional": a client without a certificate passes
  int redirect_http_port = -1;         // -1: off; plain-HTTP listener answering 308 to HTTPS
  acme::AcmeSettings acme;             // --acme-*: certificates from an ACME server (Automatic HTTPS)
  std::string backend_ca;              // CA file for https:// backends (default: system store)
  bool backend_insecure = false;       // skip certificate checks for https:// backends
  std::string backend_cert;            // client certificate shown to https:// backends (with backend_key)
  std::string backend_key;
  std::string access_log;             // "" off, "-" stdout, else a file
  std::string access_log_format = "combined";
  int admin_port = -1;                       // -1: no admin server; 0: a free port
  std::string admin_bind = "127.0.0.1";
  std::string admin_token;                   // empty: no Authorization required
  std::string otlp_endpoint;                 // --otlp-endpoint: OTLP/HTTP receiver of spans; "" no traces
  std::string otlp_service_name = "cpp-lb";  // --otlp-service-name: the spans' service.name
  ProxySettings proxy;       // timeouts, limits, forwarding headers, --request-id-header
  EjectionSettings ejection;  // --eject-after, --eject-seconds
  bool check_only = false;  // --check: validate, print, exit
  std::vector<DnsServer> resolvers;  // --resolver: DNS servers for SRV and host names; none: the system's
  // --config-etcd URL, --config-etcd-key KEY: the JSON config lives in etcd
  // (lb/config/shared_config.h); "" off.
  std::string config_etcd;
  std::string config_etcd_key = "/cpp-lb/config";
};

// Thrown for bad input; `what()` is the one-line message for stderr.
struct OptionsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown when --help printed the usage text: exit 0.
struct HelpRequested {};

// Parses argv. Throws OptionsError (exit 2) or HelpRequested (exit 0).
// `config_text`: the JSON config from etcd, read as --config's file would be
// (its backends and routes replace argv's). Without it, --config-etcd lets
// argv name no backends (none yet: lb/config/shared_config.h waits for etcd).
Options parse_options(int argc, const char* const* argv, const std::string* config_text = nullptr);

}  // namespace lb
