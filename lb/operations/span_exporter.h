// --otlp-endpoint (README "Traces"): spans made by requests are buffered and
// sent in batches by a thread of their own, as OTLP/HTTP with the JSON
// encoding, so a request never waits on the receiver. A full buffer drops
// the span; a failed export drops its batch; both are counted in /metrics.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "lb/operations/metrics.h"

namespace lb {

// OTLP's SpanKind numbers.
enum class SpanKind { Server = 2, Client = 3 };

struct SpanAttribute {
  std::string key;
  std::variant<std::string, int64_t, bool> value;
};

struct TraceSpan {
  std::string trace_id;        // 32 hex digits
  std::string span_id;         // 16 hex digits
  std::string parent_span_id;  // "" for a root span
  std::string name;
  SpanKind kind = SpanKind::Server;
  uint64_t start_unix_nanos = 0;
  uint64_t end_unix_nanos = 0;
  std::vector<SpanAttribute> attributes;
  bool error = false;  // OTLP status code 2 (ERROR); otherwise the status is left unset
};

// Nanoseconds since the Unix epoch, as OTLP wants them.
uint64_t unix_nanos(std::chrono::system_clock::time_point time);

// One span in the OTLP JSON encoding (hex ids, int64 as strings).
nlohmann::json span_json(const TraceSpan& span);
// The whole request body: one resource (service.name), one scope, `spans`.
std::string otlp_body(const std::vector<TraceSpan>& spans, const std::string& service_name);

// An --otlp-endpoint split for httplib: "http://host:port" and the path to
// POST to, "/v1/traces" when the URL has none (a path given is used as is).
struct OtlpEndpoint {
  std::string origin;
  std::string path;
};
// Throws std::invalid_argument unless `url` is http:// or https:// with a host.
OtlpEndpoint parse_otlp_endpoint(const std::string& url);

// The buffer alone, without a thread or a clock of its own (the exporter
// locks it; tests drive it): spans wait here until a batch is due.
class SpanBuffer {
 public:
  using Clock = std::chrono::steady_clock;
  SpanBuffer(size_t capacity, size_t batch_size, std::chrono::milliseconds interval, Clock::time_point now);

  // False when full: the span is dropped.
  bool push(TraceSpan&& span);
  // A batch is due: `batch_size` spans wait, or the interval since the last
  // batch passed with any waiting.
  bool batch_due(Clock::time_point now) const;
  bool batch_full() const { return spans_.size() >= batch_size_; }
  Clock::time_point next_batch_at() const { return last_batch_ + interval_; }
  // Up to `batch_size` spans, oldest first.
  std::vector<TraceSpan> take(Clock::time_point now);
  size_t size() const { return spans_.size(); }

 private:
  const size_t capacity_;
  const size_t batch_size_;
  const std::chrono::milliseconds interval_;
  Clock::time_point last_batch_;
  std::vector<TraceSpan> spans_;
};

struct SpanExporterSettings {
  std::string endpoint;                 // --otlp-endpoint
  std::string service_name = "cpp-lb";  // --otlp-service-name
  size_t capacity = 4096;
  size_t batch_size = 512;
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds stop_within{2000};  // the flush at stop() gives up after this
};

// Where ended spans go: the SpanExporter, or a test's list.
class SpanSink {
 public:
  virtual ~SpanSink() = default;
  virtual void push(TraceSpan&& span) = 0;
};

class SpanExporter : public SpanSink {
 public:
  // Sends one body; false with `error` in words when it was not accepted (2xx).
  using Send = std::function<bool(const std::string& body, std::chrono::milliseconds timeout, std::string& error)>;

  // `send` defaults to a POST with httplib::Client to the endpoint.
  SpanExporter(SpanExporterSettings settings, Metrics& metrics, Send send = nullptr);
  ~SpanExporter() override;
  SpanExporter(const SpanExporter&) = delete;
  SpanExporter& operator=(const SpanExporter&) = delete;

  void start();
  // Never blocks on I/O: one lock, the span moved in (or dropped and counted).
  void push(TraceSpan&& span) override;
  // Sends what is buffered (within settings.stop_within), then ends the thread.
  void stop();

 private:
  void run();
  void export_batch(std::vector<TraceSpan> batch, std::chrono::milliseconds timeout);

  const SpanExporterSettings settings_;
  Metrics& metrics_;
  Send send_;
  std::mutex mutex_;
  std::condition_variable wake_;
  SpanBuffer buffer_;      // guards: mutex_
  bool stopping_ = false;  // guards: mutex_
  SpanBuffer::Clock::time_point give_up_at_{};  // guards: mutex_; stop()'s call plus settings.stop_within
  bool failing_ = false;   // only the export thread reads and writes it
  std::thread thread_;
};

}  // namespace lb
