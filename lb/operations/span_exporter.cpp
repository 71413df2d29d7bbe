#include "lb/operations/span_exporter.h"

#include <httplib.h>

#include <stdexcept>

#include "common/http_client_error.h"
#include "common/log.h"

namespace lb {

namespace {

nlohmann::json attribute_json(const SpanAttribute& attribute) {
  nlohmann::json value;
  if (const auto* text = std::get_if<std::string>(&attribute.value)) {
    value["stringValue"] = *text;
  } else if (const auto* number = std::get_if<int64_t>(&attribute.value)) {
    value["intValue"] = std::to_string(*number);  // OTLP JSON: int64 as a string
  } else {
    value["boolValue"] = std::get<bool>(attribute.value);
  }
  return {{"key", attribute.key}, {"value", std::move(value)}};
}

// The default Send: one POST per batch, a new connection each time (a batch
// a second at most: not worth a kept-alive connection's failure modes).
SpanExporter::Send http_sender(const std::string& endpoint) {
  const OtlpEndpoint target = parse_otlp_endpoint(endpoint);
  return [target](const std::string& body, std::chrono::milliseconds timeout, std::string& error) {
    httplib::Client client(target.origin);
    client.set_connection_timeout(timeout / 3);
    client.set_read_timeout(timeout / 3);
    client.set_write_timeout(timeout / 3);
    client.set_keep_alive(false);
    httplib::Result result = client.Post(target.path.c_str(), body, "application/json");
    if (!result) {
      error = common::describe_client_error(result.error());
      return false;
    }
    if (result->status / 100 != 2) {
      error = "answered " + std::to_string(result->status);
      return false;
    }
    return true;
  };
}

}  // namespace

uint64_t unix_nanos(std::chrono::system_clock::time_point time) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count());
}

nlohmann::json span_json(const TraceSpan& span) {
  nlohmann::json json = {{"traceId", span.trace_id},
                         {"spanId", span.span_id},
                         {"name", span.name},
                         {"kind", static_cast<int>(span.kind)},
                         {"startTimeUnixNano", std::to_string(span.start_unix_nanos)},
                         {"endTimeUnixNano", std::to_string(span.end_unix_nanos)}};
  if (!span.parent_span_id.empty()) json["parentSpanId"] = span.parent_span_id;
  nlohmann::json attributes = nlohmann::json::array();
  for (const SpanAttribute& attribute : span.attributes) attributes.push_back(attribute_json(attribute));
  json["attributes"] = std::move(attributes);
  json["status"] = span.error ? nlohmann::json{{"code", 2}} : nlohmann::json::object();
  return json;
}

std::string otlp_body(const std::vector<TraceSpan>& spans, const std::string& service_name) {
  nlohmann::json list = nlohmann::json::array();
  for (const TraceSpan& span : spans) list.push_back(span_json(span));
  const nlohmann::json resource = {
      {"attributes", {{{"key", "service.name"}, {"value", {{"stringValue", service_name}}}}}}};
  const nlohmann::json scope_spans = {{"scope", {{"name", "cpp-lb"}}}, {"spans", std::move(list)}};
  const nlohmann::json body = {
      {"resourceSpans", {{{"resource", resource}, {"scopeSpans", nlohmann::json::array({scope_spans})}}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

OtlpEndpoint parse_otlp_endpoint(const std::string& url) {
  const auto scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    throw std::invalid_argument("'" + url + "' is not an http:// or https:// URL");
  }
  const auto path_start = url.find('/', scheme_end + 3);
  OtlpEndpoint endpoint;
  endpoint.origin = url.substr(0, path_start);
  if (endpoint.origin.size() == scheme_end + 3) throw std::invalid_argument("'" + url + "' has no host");
  endpoint.path = path_start == std::string::npos || path_start + 1 == url.size() ? "/v1/traces" : url.substr(path_start);
  return endpoint;
}

SpanBuffer::SpanBuffer(size_t capacity, size_t batch_size, std::chrono::milliseconds interval, Clock::time_point now)
    : capacity_(capacity), batch_size_(batch_size), interval_(interval), last_batch_(now) {
  spans_.reserve(capacity);  // pushing never reallocates
}

bool SpanBuffer::push(TraceSpan&& span) {
  if (spans_.size() >= capacity_) return false;
  spans_.push_back(std::move(span));
  return true;
}

bool SpanBuffer::batch_due(Clock::time_point now) const {
  return batch_full() || (!spans_.empty() && now >= next_batch_at());
}

std::vector<TraceSpan> SpanBuffer::take(Clock::time_point now) {
  last_batch_ = now;
  const size_t count = std::min(batch_size_, spans_.size());
  std::vector<TraceSpan> batch(std::make_move_iterator(spans_.begin()), std::make_move_iterator(spans_.begin() + count));
  spans_.erase(spans_.begin(), spans_.begin() + count);
  return batch;
}

SpanExporter::SpanExporter(SpanExporterSettings settings, Metrics& metrics, Send send)
    : settings_(std::move(settings)),
      metrics_(metrics),
      send_(send ? std::move(send) : http_sender(settings_.endpoint)),
      buffer_(settings_.capacity, settings_.batch_size, settings_.interval, SpanBuffer::Clock::now()) {}

SpanExporter::~SpanExporter() { stop(); }

void SpanExporter::start() { thread_ = std::thread([this] { run(); }); }

void SpanExporter::push(TraceSpan&& span) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!buffer_.push(std::move(span))) {
      metrics_.trace_spans_dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    wake = buffer_.batch_full();
  }
  if (wake) wake_.notify_one();
}

void SpanExporter::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    give_up_at_ = SpanBuffer::Clock::now() + settings_.stop_within;  // a batch under way counts too
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SpanExporter::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait_until(lock, buffer_.next_batch_at(),
                     [this] { return stopping_ || buffer_.batch_due(SpanBuffer::Clock::now()); });
    if (stopping_) break;
    if (!buffer_.batch_due(SpanBuffer::Clock::now())) {  // the interval passed with nothing waiting
      buffer_.take(SpanBuffer::Clock::now());
      continue;
    }
    std::vector<TraceSpan> batch = buffer_.take(SpanBuffer::Clock::now());
    lock.unlock();  // never over I/O
    export_batch(std::move(batch), settings_.stop_within);
    lock.lock();
  }
  // Stopping: what is left goes out, as long as the time allows.
  while (buffer_.size() > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up_at_ - SpanBuffer::Clock::now());
    std::vector<TraceSpan> batch = buffer_.take(SpanBuffer::Clock::now());
    if (left.count() <= 0) {
      metrics_.trace_spans_dropped.fetch_add(batch.size(), std::memory_order_relaxed);
      continue;
    }
    lock.unlock();
    export_batch(std::move(batch), left);
    lock.lock();
  }
}

// One batch, once: a failure drops it (counted), logged when exports start
// failing and when they work again.
void SpanExporter::export_batch(std::vector<TraceSpan> batch, std::chrono::milliseconds timeout) {
  std::string error;
  if (send_(otlp_body(batch, settings_.service_name), timeout, error)) {
    metrics_.trace_spans_exported.fetch_add(batch.size(), std::memory_order_relaxed);
    if (failing_) common::log_line("[Traces] exporting to " + settings_.endpoint + " again");
    failing_ = false;
    return;
  }
  metrics_.trace_export_failures.fetch_add(1, std::memory_order_relaxed);
  metrics_.trace_spans_dropped.fetch_add(batch.size(), std::memory_order_relaxed);
  if (!failing_) {
    common::log_line("[Traces] export to " + settings_.endpoint + " failed (" + error +
                     "); dropping spans until it works");
  }
  failing_ = true;
}

}  // namespace lb
