// backend_server [PORT] [--host ADDR] [--id NAME]: the tutorial's demo backend.
//
// Parses flags, binds, prints one "listening on" line to stdout, serves until
// SIGINT/SIGTERM, then exits 0. Bad flags or a busy port: one line on stderr, exit 2.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "backend/backend_state.h"
#include "backend/listener.h"
#include "backend/routes.h"
#include "common/control_signals.h"
#include "common/log.h"

namespace {

struct Options {
  int port = 8001;
  std::string host = "0.0.0.0";
  std::string id;  // empty: Server_on_Port_<actual port>
};

// Exits 0 after --help, 2 with a one-line message on bad input.
Options parse_options(int argc, char** argv) {
  Options options;
  CLI::App app{"Demo HTTP backend for the load balancer tutorial", "backend_server"};
  app.add_option("port", options.port, "Port to listen on (0: any free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--host", options.host, "Address to listen on");
  app.add_option("--id", options.id, "Server id in responses (default Server_on_Port_<PORT>)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    std::exit(0);
  } catch (const CLI::ParseError& e) {
    std::cerr << "backend_server: " << e.what() << std::endl;
    std::exit(2);
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  common::ControlSignals signals;  // before any thread starts

  backend::Listener listener;
  std::string error = listener.bind(options.host, options.port);
  if (!error.empty()) {
    std::cerr << "backend_server: " << error << std::endl;
    return 2;
  }

  backend::BackendState state(options.id.empty()
                                  ? "Server_on_Port_" + std::to_string(listener.port())
                                  : options.id);
  backend::install_demo_routes(listener, state);
  backend::install_routes(listener, state);

  signals.start([&](int signo) {
    common::log_line("[" + state.id() + "] " + common::stop_signal_name(signo) + " received, shutting down");
    state.begin_shutdown();
    listener.stop_listening();
  });

  // Scripts and tests wait for this exact line to learn the port.
  std::printf("backend_server %s listening on %s\n", state.id().c_str(),
              common::host_port(options.host, listener.port()).c_str());
  std::fflush(stdout);

  bool ok = listener.serve();
  signals.join();  // the callback uses `listener` and `state`
  if (listener.drain_timed_out()) {
    // Connection threads still run and use `listener`; leave without
    // destroying it under them.
    common::log_line("[" + state.id() + "] connections still open after drain timeout; exiting");
    std::fflush(stdout);
    std::_Exit(0);
  }
  if (!ok) {
    common::log_line("[" + state.id() + "] accept loop failed");
    return 1;
  }
  common::log_line("[" + state.id() + "] stopped");
  return 0;
}
