#include "lb/config/restart_settings.h"

#include <catch2/catch.hpp>

using lb::Options;
using lb::settings_needing_restart;

TEST_CASE("a reload names the changed settings that need a restart", "[options][reload]") {
  const Options started;
  Options fresh = started;
  CHECK(settings_needing_restart(started, fresh).empty());

  fresh.health_interval = 1;  // a reload applies it
  fresh.rate_limit = 10;
  CHECK(settings_needing_restart(started, fresh).empty());

  fresh.port = 9000;
  fresh.resolvers.push_back(lb::parse_dns_server("127.0.0.1:5353"));
  fresh.otlp_endpoint = "http://127.0.0.1:4318";
  fresh.config_etcd_key = "/other";
  fresh.acme.state_dir = "/var/lib/other";
  CHECK(settings_needing_restart(started, fresh) ==
        std::vector<std::string>{"--port", "--acme-state", "--resolver", "--otlp-endpoint", "--config-etcd-key"});
}
