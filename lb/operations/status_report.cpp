#include "lb/operations/status_report.h"

#include <cmath>

#include <functional>

#include "common/log.h"
#include "lb/operations/discovery_report.h"
#include "lb/operations/fault_json.h"
#include "lb/protection/access_list.h"

namespace lb {

namespace {

// Empty before the first check.
std::string iso8601(std::chrono::system_clock::time_point when) {
  return when.time_since_epoch().count() == 0 ? "" : common::utc_timestamp(when);
}

// Label values escape backslash, quote and newline (Prometheus text format).
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

const char* circuit_gauge(CircuitState state) {
  switch (state) {
    case CircuitState::Closed: return "0";
    case CircuitState::HalfOpen: return "1";
    case CircuitState::Open: return "2";
  }
  return "0";
}

// HELP, TYPE, the cumulative buckets, sum and count.
void histogram(const std::string& name, const char* help, const DurationHistogram& histogram, std::string& out) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= DurationHistogram::kBuckets.size(); ++i) {
    cumulative += histogram.counts[i].load();
    std::string le = "+Inf";
    if (i < DurationHistogram::kBuckets.size()) {
      char bound[32];
      std::snprintf(bound, sizeof bound, "%g", DurationHistogram::kBuckets[i]);
      le = bound;
    }
    out += name + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  char sum[64];
  std::snprintf(sum, sizeof sum, "%.6f", histogram.sum_micros.load() / 1e6);
  out += name + "_sum " + sum + "\n" + name + "_count " + std::to_string(cumulative) + "\n";
}

double tenths(double value) { return std::round(value * 10) / 10; }

}  // namespace

nlohmann::json backend_status(const Backend& backend) {
  LastCheck check = backend.last_check();
  const auto now = Backend::Clock::now();
  const double ejected_for = backend.ejected(now) ? std::chrono::duration<double>(backend.ejected_until() - now).count() : 0;
  return {
      {"id", backend.id},
      {"pool", backend.pool_name},
      {"url", backend.url},
      {"weight", backend.weight()},
      {"healthy", backend.healthy()},
      {"draining", backend.draining.load()},
      {"circuit", to_string(backend.breaker().state())},
      {"ejected", backend.ejected(now)},
      {"ejected_seconds_left", ejected_for},
      {"ejections", backend.ejections_total.load()},
      {"passive", to_string(backend.passive_health().state(now))},  // the breaker and ejection as one state
      {"weight_percent", backend.selection_weight(now) / std::max(1, backend.weight())},  // < 100 in slow start
      {"active_requests", backend.active_requests.load()},
      {"in_flight", backend.active_requests.load()},
      {"latency_ms", tenths(backend.latency_ms(now).value_or(0))},  // least-latency's estimate (0: none yet)
      {"max_requests", backend.max_requests()},  // its limit now (0: none)
      {"requests", backend.requests_total.load()},
      {"failures", backend.failures_total.load()},
      {"fault", fault_json(backend.fault())},
      {"last_check", {{"passed", check.passed}, {"detail", check.detail}, {"time", iso8601(check.when)}}},
      {"discovered_by", backend.spec.discovered_by},  // "srv+http://NAME", or "" when configured
  };
}

nlohmann::json pool_status(const BackendPool& pool) {
  nlohmann::json backends = nlohmann::json::array();
  for (const auto& backend : pool.backends) backends.push_back(backend_status(*backend));
  const auto now = ResponseTimes::Clock::now();
  const ResponseTimes& times = pool.shared->response_times;
  const RequestLimit& limit = pool.settings.max_requests;
  const HedgePolicy& hedge = pool.settings.hedge;
  return {
      {"name", pool.settings.name},
      {"algorithm", pool.selector->name()},
      {"sticky_cookie", pool.sticky ? pool.sticky->cookie_name() : ""},
      {"health_path", pool.settings.health_path},
      {"health_interval_seconds", pool.settings.health_interval.count() / 1000.0},
      {"max_requests", limit.mode == RequestLimit::Mode::Auto ? nlohmann::json("auto") : nlohmann::json(limit.fixed)},
      {"hedge_after", hedge.mode == HedgePolicy::Mode::Fixed ? nlohmann::json(hedge.after.count())
                                                              : nlohmann::json(hedge.text())},
      {"queued", pool.shared->queue.length()},
      {"latency_p50_ms", tenths(times.percentile(0.5, now))},
      {"latency_p99_ms", tenths(times.percentile(0.99, now))},
      {"backends", backends},
      {"srv_sources", discovery_status(pool)},
  };
}

nlohmann::json status_json(const Topology& topology, std::size_t open_connections,
                           std::chrono::steady_clock::duration uptime, std::size_t open_streams) {
  nlohmann::json all_backends = nlohmann::json::array();
  nlohmann::json pools = nlohmann::json::array();
  for (const auto& pool : topology.pools) {
    pools.push_back(pool_status(*pool));
    for (const auto& backend : pools.back()["backends"]) all_backends.push_back(backend);
  }
  nlohmann::json routes = nlohmann::json::array();
  for (const auto& route : topology.router.routes()) {
    routes.push_back({{"host", route.host}, {"path", route.path}, {"pool", route.pool}, {"strip_prefix", route.strip_prefix}});
  }
  const BackendPool& first = *topology.pools.front();
  return {
      {"algorithm", first.selector->name()},
      {"sticky_cookie", first.sticky ? first.sticky->cookie_name() : ""},
      {"uptime_seconds", std::chrono::duration<double>(uptime).count()},
      {"open_connections", open_connections},
      {"open_streams", open_streams},
      {"backends", all_backends},
      {"pools", pools},
      {"routes", routes},
  };
}

std::string metrics_text(const Topology& topology, const Metrics& metrics, std::size_t open_connections,
                         std::size_t open_streams) {
  std::string out;
  auto line = [&out](const std::string& text) { out += text + "\n"; };

  line("# HELP lb_responses_total Responses sent to clients, by status class.");
  line("# TYPE lb_responses_total counter");
  for (int c = 1; c <= 5; ++c) {
    line("lb_responses_total{class=\"" + std::to_string(c) + "xx\"} " +
         std::to_string(metrics.responses_by_class[c].load()));
  }

  histogram("lb_request_duration_seconds", "Time from request head to the end of the response.", metrics.durations,
            out);
  // A family of one sample: HELP, TYPE, value.
  auto single = [&](const std::string& name, const char* type, const char* help, uint64_t value) {
    line("# HELP " + name + " " + help);
    line("# TYPE " + name + " " + type);
    line(name + " " + std::to_string(value));
  };
  single("lb_open_connections", "gauge", "Client connections open now (an HTTP/2 connection counts once).",
         open_connections);
  single("lb_open_streams", "gauge", "HTTP/2 streams being served now.", open_streams);
  single("lb_rate_limited_total", "counter", "Requests refused with 429.", metrics.rate_limited.load());
  line("# HELP lb_retries_total Retries on another backend: answered, failed too, or refused by --retry-budget.");
  line("# TYPE lb_retries_total counter");
  line("lb_retries_total{result=\"success\"} " + std::to_string(metrics.retries_succeeded.load()));
  line("lb_retries_total{result=\"failure\"} " + std::to_string(metrics.retries_failed.load()));
  line("lb_retries_total{result=\"over_budget\"} " + std::to_string(metrics.retries_over_budget.load()));
  single("lb_proxy_header_refused_total", "counter",
         "Connections closed for a missing, malformed or untrusted PROXY header.", metrics.proxy_header_refused.load());
  single("lb_rate_limit_local_decisions_total", "counter",
         "Requests rate-limited locally because Redis did not answer.", metrics.rate_limit_local_decisions.load());
  line("# HELP lb_queue_length Requests waiting for a place on a pool's backends (--max-requests).");
  line("# TYPE lb_queue_length gauge");
  for (const auto& pool : topology.pools) {
    line("lb_queue_length{pool=\"" + label(pool->settings.name) + "\"} " + std::to_string(pool->shared->queue.length()));
  }
  histogram("lb_queue_wait_seconds", "Time queued requests waited for a place on a backend.", metrics.queue_waits, out);
  line("# HELP lb_requests_shed_total Requests refused with 503 by a pool's queue.");
  line("# TYPE lb_requests_shed_total counter");
  line("lb_requests_shed_total{reason=\"queue_full\"} " + std::to_string(metrics.shed_queue_full.load()));
  line("lb_requests_shed_total{reason=\"queue_timeout\"} " + std::to_string(metrics.shed_queue_timeout.load()));
  single("lb_hedged_requests_total", "counter", "Requests also sent to a second backend (--hedge-after).",
         metrics.hedged_requests.load());
  line("# HELP lb_edge_refused_total Requests refused before any backend: access lists, basic auth, forward auth.");
  line("# TYPE lb_edge_refused_total counter");
  for (int kind = 1; kind < kEdgeRefusalKinds; ++kind) {
    line(std::string("lb_edge_refused_total{reason=\"") + edge_refusal_label(static_cast<EdgeRefusal>(kind)) + "\"} " +
         std::to_string(metrics.edge_refused[kind].load()));
  }
  single("lb_basic_auth_failures_total", "counter", "Basic auth credentials given but wrong or malformed.",
         metrics.basic_auth_failures.load());
  single("lb_trace_spans_exported_total", "counter", "Spans accepted by the OTLP receiver (--otlp-endpoint).",
         metrics.trace_spans_exported.load());
  single("lb_trace_spans_dropped_total", "counter",
         "Spans dropped: the buffer was full, or their batch could not be exported.",
         metrics.trace_spans_dropped.load());
  single("lb_trace_export_failures_total", "counter",
         "Batches of spans the OTLP receiver did not accept (unreachable, non-2xx).",
         metrics.trace_export_failures.load());
  out += discovery_metrics(topology);  // srv+http:// sources
  line("# HELP lb_config_etcd_errors_total --config-etcd: etcd not answering, a revision rejected, a write conflict.");
  line("# TYPE lb_config_etcd_errors_total counter");
  line("lb_config_etcd_errors_total{kind=\"unreachable\"} " + std::to_string(metrics.config_etcd_unreachable.load()));
  line("lb_config_etcd_errors_total{kind=\"rejected\"} " + std::to_string(metrics.config_etcd_rejected.load()));
  line("lb_config_etcd_errors_total{kind=\"conflict\"} " + std::to_string(metrics.config_etcd_conflicts.load()));
  single("lb_config_revision", "gauge", "The etcd revision of the configuration applied (--config-etcd; 0: none).",
         static_cast<uint64_t>(metrics.config_revision.load()));

  // One metric family with a sample (or several) per backend.
  auto per_backend = [&](const std::string& name, const char* type, const char* help,
                         const std::function<std::string(const Backend&, const std::string&)>& samples) {
    line("# HELP " + name + " " + help);
    line("# TYPE " + name + " " + type);
    for (const auto& pool : topology.pools) {
      for (const auto& backend : pool->backends) {
        out += samples(*backend, "pool=\"" + label(pool->settings.name) + "\",backend=\"" + label(backend->url) + "\"");
      }
    }
  };
  per_backend("lb_backend_requests_total", "counter", "Backend answers relayed, by status class.",
              [](const Backend& b, const std::string& labels) {
                std::string text;
                for (int c = 1; c <= 5; ++c) {
                  text += "lb_backend_requests_total{" + labels + ",class=\"" + std::to_string(c) + "xx\"} " +
                          std::to_string(b.responses_by_class[c].load()) + "\n";
                }
                return text;
              });
  per_backend("lb_backend_failures_total", "counter", "Connect errors, timeouts and broken responses.",
              [](const Backend& b, const std::string& labels) {
                return "lb_backend_failures_total{" + labels + "} " + std::to_string(b.failures_total.load()) + "\n";
              });
  per_backend("lb_backend_active_requests", "gauge", "Requests in flight to the backend.",
              [](const Backend& b, const std::string& labels) {
                return "lb_backend_active_requests{" + labels + "} " + std::to_string(b.active_requests.load()) + "\n";
              });
  per_backend("lb_backend_latency_seconds", "gauge",
              "Least-latency's estimate of the backend's time to a first response byte (0 until it answers).",
              [now = Backend::Clock::now()](const Backend& b, const std::string& labels) {
                char value[32];
                std::snprintf(value, sizeof value, "%.6f", b.latency_ms(now).value_or(0) / 1000);
                return "lb_backend_latency_seconds{" + labels + "} " + value + "\n";
              });
  per_backend("lb_backend_max_requests", "gauge", "The backend's limit on requests in flight now (0: none).",
              [](const Backend& b, const std::string& labels) {
                return "lb_backend_max_requests{" + labels + "} " + std::to_string(b.max_requests()) + "\n";
              });
  per_backend("lb_backend_healthy", "gauge", "1 while health checks keep the backend in rotation.",
              [](const Backend& b, const std::string& labels) {
                return "lb_backend_healthy{" + labels + "} " + (b.healthy() ? "1\n" : "0\n");
              });
  per_backend("lb_backend_circuit_state", "gauge", "Circuit breaker: 0 closed, 1 half-open, 2 open.",
              [](const Backend& b, const std::string& labels) {
                return "lb_backend_circuit_state{" + labels + "} " + circuit_gauge(b.breaker().state()) + "\n";
              });
  per_backend("lb_backend_ejected", "gauge", "1 while outlier ejection keeps the backend out of rotation.",
              [](const Backend& b, const std::string& labels) {
                return "lb_backend_ejected{" + labels + "} " + (b.ejected(Backend::Clock::now()) ? "1\n" : "0\n");
              });
  per_backend("lb_backend_ejections_total", "counter", "Outlier ejections (consecutive failures).",
              [](const Backend& b, const std::string& labels) {
                return "lb_backend_ejections_total{" + labels + "} " + std::to_string(b.ejections_total.load()) + "\n";
              });
  per_backend("lb_faults_injected_total", "counter",
              "Attempts aborted, delayed or slowed by an injected fault (admin API).",
              [](const Backend& b, const std::string& labels) {
                return "lb_faults_injected_total{" + labels + ",fault=\"abort\"} " +
                       std::to_string(b.faults_aborted.load()) + "\nlb_faults_injected_total{" + labels +
                       ",fault=\"delay\"} " + std::to_string(b.faults_delayed.load()) +
                       "\nlb_faults_injected_total{" + labels + ",fault=\"slow\"} " +
                       std::to_string(b.faults_slowed.load()) + "\n";
              });
  per_backend("lb_health_checks_total", "counter", "Active health check results.",
              [](const Backend& b, const std::string& labels) {
                return "lb_health_checks_total{" + labels + ",result=\"pass\"} " + std::to_string(b.checks_passed.load()) +
                       "\nlb_health_checks_total{" + labels + ",result=\"fail\"} " +
                       std::to_string(b.checks_failed.load()) + "\n";
              });
  return out;
}

}  // namespace lb
