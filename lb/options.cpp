#include "lb/options.h"

#include <CLI/CLI.hpp>

#include <cmath>
#include <iostream>

#include "lb/http_headers.h"

namespace lb {

namespace {

Millis seconds_to_millis(double seconds) { return Millis(static_cast<long>(std::llround(seconds * 1000.0))); }

// A duration flag in seconds; fractions allowed, must be > 0.
CLI::Option* add_seconds(CLI::App& app, const std::string& name, double& target, const std::string& help) {
  return app.add_option(name, target, help)->check(CLI::PositiveNumber)->capture_default_str();
}

}  // namespace

Options parse_options(int argc, const char* const* argv) {
  Options options;
  std::vector<std::string> backend_texts;
  double connect_timeout = 5, backend_timeout = 60, client_timeout = 60, keepalive_timeout = 60,
         header_timeout = 10;
  uint64_t max_body_bytes = 0;
  std::size_t max_header_bytes = options.proxy.max_header_bytes;

  CLI::App app{"load_balancer: an HTTP/1.1 load balancer (thread per connection)", "load_balancer"};
  app.add_option("-b,--backend", backend_texts,
                 "Backend URL[,weight=N]: http://host:port or https://host:port, weight 1-1000; repeatable")
      ->required();
  app.add_option("-p,--port", options.port, "Listening port (0 picks a free one)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--bind", options.bind, "Listening address")->capture_default_str();
  app.add_option("--algorithm", options.algorithm, "round-robin (smooth weighted) or least-connections")
      ->check(CLI::IsMember({"round-robin", "least-connections"}))
      ->capture_default_str();
  app.add_option("--health-path", options.health_path, "Health check target; 2xx is healthy")->capture_default_str();
  add_seconds(app, "--health-interval", options.health_interval, "Seconds between health checks");
  add_seconds(app, "--health-timeout", options.health_timeout, "Per-check timeout in seconds");
  app.add_option("--health-rise", options.health_rise, "Consecutive passed checks to bring a backend back")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--health-fall", options.health_fall, "Consecutive failed checks to take a backend out")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  add_seconds(app, "--connect-timeout", connect_timeout, "Seconds to connect to a backend");
  add_seconds(app, "--backend-timeout", backend_timeout, "Seconds to wait for backend response bytes (then 504)");
  add_seconds(app, "--client-timeout", client_timeout, "Seconds to wait for client body bytes or writes");
  add_seconds(app, "--keepalive-timeout", keepalive_timeout, "Seconds an idle client connection is kept");
  add_seconds(app, "--header-timeout", header_timeout, "Seconds to receive a whole request head (then 408)");
  app.add_option("--max-connections", options.max_connections,
                 "Client connections served at once; more wait in the backlog")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--max-body-size", max_body_bytes, "Largest request body in bytes, 0 = unlimited (then 413)")
      ->capture_default_str();
  app.add_option("--max-header-size", max_header_bytes, "Largest request head in bytes (then 431)")
      ->check(CLI::Range(1024, 1024 * 1024))
      ->capture_default_str();
  app.add_option("--upstream-keepalive", options.upstream_keepalive, "Idle connections kept open per backend")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  app.add_option("--retries", options.proxy.retries,
                 "Extra backends to try when a request cannot reach its backend")
      ->check(CLI::Range(0, 10))
      ->capture_default_str();
  app.add_option("--sticky-cookie", options.sticky_cookie, "Cookie name for session persistence (off when unset)");
  app.add_option("--sticky-secret", options.sticky_secret,
                 "Secret mixed into sticky cookie values (same on every instance)");
  double tunnel_idle_timeout = 3600;
  add_seconds(app, "--tunnel-idle-timeout", tunnel_idle_timeout, "Seconds an upgraded (WebSocket) tunnel may idle");
  std::string forwarded = "x-forwarded";
  app.add_option("--forwarded-headers", forwarded,
                 "Client address headers to send: x-forwarded, forwarded (RFC 7239) or both")
      ->check(CLI::IsMember({"x-forwarded", "forwarded", "both"}))
      ->capture_default_str();
  app.add_option("--via-name", options.proxy.via_name, "Name in the Via header we add")->capture_default_str();
  add_seconds(app, "--drain-timeout", options.drain_timeout, "Seconds to let in-flight requests finish on stop");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    throw HelpRequested{};
  } catch (const CLI::ParseError& e) {
    throw OptionsError(e.what());
  }

  for (const auto& text : backend_texts) {
    try {
      options.backends.push_back(parse_backend_spec(text));
    } catch (const std::invalid_argument& e) {
      throw OptionsError(std::string("--backend: ") + e.what());
    }
  }
  if (options.health_path.empty() || options.health_path.front() != '/') {
    throw OptionsError("--health-path: must start with '/'");
  }
  if (app.count("--sticky-cookie") && !is_token(options.sticky_cookie)) {
    throw OptionsError("--sticky-cookie: '" + options.sticky_cookie + "' is not a valid cookie name");
  }
  options.proxy.tunnel_idle_timeout = seconds_to_millis(tunnel_idle_timeout);
  options.proxy.x_forwarded_headers = forwarded != "forwarded";
  options.proxy.forwarded_header = forwarded != "x-forwarded";
  if (!is_token(options.proxy.via_name)) throw OptionsError("--via-name: must be a single token");
  options.proxy.connect_timeout = seconds_to_millis(connect_timeout);
  options.proxy.backend_timeout = seconds_to_millis(backend_timeout);
  options.proxy.client_timeout = seconds_to_millis(client_timeout);
  options.proxy.keepalive_timeout = seconds_to_millis(keepalive_timeout);
  options.proxy.header_timeout = seconds_to_millis(header_timeout);
  options.proxy.max_body_bytes = max_body_bytes;
  options.proxy.max_header_bytes = max_header_bytes;
  return options;
}

}  // namespace lb
