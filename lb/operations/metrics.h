// Counters for /metrics that are not a single backend's: every response the
// load balancer sent (its own errors included) by status class, a request
// duration histogram, and rate-limited requests. All atomics: the hot path
// only increments, never locks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace lb {

// A Prometheus histogram of durations in seconds.
struct DurationHistogram {
  // Upper bounds (seconds) of the buckets, Prometheus style.
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5,   10.0};
  void observe(double seconds) {
    size_t bucket = 0;
    while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
    counts[bucket].fetch_add(1, std::memory_order_relaxed);  // non-cumulative here; summed when printed
    sum_micros.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  }
  std::atomic<uint64_t> counts[kBuckets.size() + 1] = {};  // last: +Inf
  std::atomic<uint64_t> sum_micros{0};
};

class Metrics {
 public:
  void observe_response(int status, double seconds) {
    int status_class = status / 100;
    responses_by_class[(status_class >= 1 && status_class <= 5) ? status_class : 0].fetch_add(1, kRelaxed);
    durations.observe(seconds);
  }

  std::atomic<uint64_t> responses_by_class[6] = {};  // [1..5] = 1xx..5xx, [0] = other
  DurationHistogram durations;  // lb_request_duration_seconds
  std::atomic<uint64_t> rate_limited{0};
  // lb_retries_total{result}: a retry's attempt answered, failed too, or was refused by the budget.
  std::atomic<uint64_t> retries_succeeded{0};
  std::atomic<uint64_t> retries_failed{0};
  std::atomic<uint64_t> retries_over_budget{0};
  // Connections closed for a missing, malformed or untrusted PROXY header.
  std::atomic<uint64_t> proxy_header_refused{0};
  // --rate-limit-redis: requests decided by local buckets because Redis did not answer.
  std::atomic<uint64_t> rate_limit_local_decisions{0};
  // --max-requests: how long queued requests waited, and those refused (lb_requests_shed_total{reason}).
  DurationHistogram queue_waits;  // lb_queue_wait_seconds
  std::atomic<uint64_t> shed_queue_full{0};
  std::atomic<uint64_t> shed_queue_timeout{0};
  // --hedge-after: requests also sent to a second backend.
  std::atomic<uint64_t> hedged_requests{0};
  // Requests refused at the edge (README "Access control"), by EdgeRefusal
  // (lb/protection/access_list.h): lb_edge_refused_total{reason}.
  std::atomic<uint64_t> edge_refused[6] = {};
  // Basic auth: credentials given but wrong (lb_basic_auth_failures_total).
  std::atomic<uint64_t> basic_auth_failures{0};
  // --otlp-endpoint (README "Traces"): spans sent, spans dropped (buffer full
  // or their batch failed), and failed exports (lb_trace_*_total).
  std::atomic<uint64_t> trace_spans_exported{0};
  std::atomic<uint64_t> trace_spans_dropped{0};
  std::atomic<uint64_t> trace_export_failures{0};
  // --config-etcd (README "One configuration in etcd"): lb_config_etcd_errors_total{kind}
  // (etcd not answering, a revision refused, a write that lost a compare-and-swap
  // race) and lb_config_revision (the etcd revision applied; 0: none yet).
  std::atomic<uint64_t> config_etcd_unreachable{0};
  std::atomic<uint64_t> config_etcd_rejected{0};
  std::atomic<uint64_t> config_etcd_conflicts{0};
  std::atomic<int64_t> config_revision{0};

 private:
  static constexpr std::memory_order kRelaxed = std::memory_order_relaxed;
};

}  // namespace lb
