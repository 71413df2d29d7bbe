// load_balancer: parse flags, check backends once, then listen and proxy until
// SIGINT/SIGTERM. The request path itself starts in proxy_connection.cpp.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "common/log.h"
#include "lb/health_checker.h"
#include "lb/options.h"
#include "lb/proxy_server.h"
#include "lb/selector.h"

namespace {

// SIGINT/SIGTERM are blocked in every thread and taken by one waiting thread,
// which can then call ordinary (non-signal-safe) shutdown code.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a vanished peer is an I/O error, not a process exit
  return set;
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
  sigset_t stop_signals = block_stop_signals();

  lb::BackendSettings backend_settings;
  backend_settings.rise = options.health_rise;
  backend_settings.fall = options.health_fall;
  backend_settings.max_idle_connections = options.upstream_keepalive;
  lb::BackendList backends;
  for (const auto& spec : options.backends) backends.push_back(std::make_shared<lb::Backend>(spec, backend_settings));
  std::unique_ptr<lb::Selector> selector = lb::make_selector(options.algorithm, backends);

  auto to_millis = [](double seconds) { return lb::Millis(static_cast<long>(seconds * 1000)); };
  lb::HealthChecker health_checker(backends, lb::make_http_probe(options.health_path, to_millis(options.health_timeout)),
                                   to_millis(options.health_interval));
  // The first round runs before the listener opens, so the first request
  // already knows which backends are up.
  health_checker.run_round();

  std::unique_ptr<lb::StickySessions> sticky;
  if (!options.sticky_cookie.empty()) {
    sticky = std::make_unique<lb::StickySessions>(options.sticky_cookie, backends, options.sticky_secret);
  }
  lb::ProxyContext context{options.proxy, *selector, sticky.get(), {}};
  lb::ProxyServer server(context, options.max_connections, to_millis(options.drain_timeout));
  std::string error;
  int port = server.open(options.bind, options.port, error);
  if (port < 0) {
    std::cerr << "load_balancer: " << error << "\n";
    return 2;
  }
  health_checker.start();

  std::thread([&server, stop_signals] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    common::log_line(std::string("[Load Balancer] ") + (signal_number == SIGINT ? "SIGINT" : "SIGTERM") +
                     ": no new connections; finishing in-flight requests");
    server.shutdown();
  }).detach();

  char interval[32];
  std::snprintf(interval, sizeof interval, "%g", options.health_interval);
  common::log_line("[Load Balancer] " + std::to_string(backends.size()) + " backends, " + selector->name() +
                   (sticky ? ", sticky cookie " + options.sticky_cookie : std::string()) + ", health check " +
                   options.health_path + " every " + interval + " s");
  std::printf("load_balancer listening on %s:%d\n", options.bind.c_str(), port);
  std::fflush(stdout);

  server.run();  // returns once stopped and drained (or the drain timed out)
  health_checker.stop();
  std::size_t unfinished = context.registry.open_connections();
  if (unfinished > 0) {
    common::log_line("[Load Balancer] drain timeout: closing " + std::to_string(unfinished) + " connections");
    std::fflush(nullptr);
    std::_Exit(0);  // connection threads still hold references to this stack
  }
  common::log_line("[Load Balancer] stopped");
  return 0;
}
