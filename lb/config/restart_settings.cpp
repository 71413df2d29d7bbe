#include "lb/config/restart_settings.h"

namespace lb {

namespace {

std::vector<std::string> resolver_texts(const std::vector<DnsServer>& servers) {
  std::vector<std::string> texts;
  for (const DnsServer& server : servers) texts.push_back(server.text());
  return texts;
}

}  // namespace

std::vector<std::string> settings_needing_restart(const Options& started, const Options& fresh) {
  std::vector<std::string> changed;
  auto note = [&changed](bool differs, const char* flag) {
    if (differs) changed.emplace_back(flag);
  };
  note(fresh.port != started.port, "--port");
  note(fresh.bind != started.bind, "--bind");
  note(fresh.admin_port != started.admin_port, "--admin-port");
  note(fresh.admin_bind != started.admin_bind, "--admin-bind");
  note(fresh.redirect_http_port != started.redirect_http_port, "--redirect-http");
  note(fresh.max_connections != started.max_connections, "--max-connections");
  note(fresh.access_log != started.access_log, "--access-log");
  note(fresh.acme.names != started.acme.names, "--acme-domain");
  note(fresh.acme.directory_url != started.acme.directory_url, "--acme-directory");
  note(fresh.acme.email != started.acme.email, "--acme-email");
  note(fresh.acme.state_dir != started.acme.state_dir, "--acme-state");
  note(fresh.acme.ca_file != started.acme.ca_file, "--acme-ca");
  note(resolver_texts(fresh.resolvers) != resolver_texts(started.resolvers), "--resolver");
  note(fresh.otlp_endpoint != started.otlp_endpoint, "--otlp-endpoint");
  note(fresh.otlp_service_name != started.otlp_service_name, "--otlp-service-name");
  note(fresh.config_etcd != started.config_etcd, "--config-etcd");
  note(fresh.config_etcd_key != started.config_etcd_key, "--config-etcd-key");
  return changed;
}

}  // namespace lb
