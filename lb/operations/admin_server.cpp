#include "lb/operations/admin_server.h"

#include <httplib.h>

#include <cstdlib>
#include <thread>

#include "common/log.h"
#include "lb/http/error_response.h"
#include "lb/operations/certificate_report.h"
#include "lb/operations/dashboard_page.h"
#include "lb/operations/fault_json.h"
#include "lb/operations/status_report.h"

namespace lb {

namespace {

void reply_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(2) + "\n", "application/json");
}

// Request streams each hold one of the server's threads while a dashboard is
// open; the pool is larger than that cap, so /status is always answered.
constexpr int kWorkerThreads = 16;
constexpr int kMaxRequestStreams = 8;
// A stream sends at most this many events per batch and pauses between
// batches, so a busy load balancer cannot flood a browser (the rest are skipped).
constexpr std::size_t kMaxEventsPerBatch = 50;
constexpr std::chrono::milliseconds kBatchPause{100};
constexpr std::chrono::milliseconds kKeepAliveEvery{15000};

}  // namespace

AdminServer::AdminServer(AdminContext context, std::string token)
    : context_(context), token_(std::move(token)) {
  http_.server().new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  install_routes();
  install_fault_routes();
  install_pool_routes();
  install_request_view_routes();
  install_weight_route();
}

void AdminServer::share(const BackendChange& change, nlohmann::json& body) {
  if (!context_.shared_config.write) return;
  const std::string error = context_.shared_config.write(change);
  if (!error.empty()) body["shared_config_error"] = error;
}

// PUT /backends/{id}/weight: its share of the pool's requests from now on.
void AdminServer::install_weight_route() {
  http_.server().Put(R"(/backends/([0-9a-f]+)/weight)", [this](const httplib::Request& req, httplib::Response& res) {
    auto backend = context_.balancer.find(req.matches[1]);
    if (!backend) return reply_json(res, 404, {{"error", "no such backend"}});
    const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    const bool valid = body.is_object() && body.size() == 1 && body.contains("weight") &&
                       body["weight"].is_number_integer() && body["weight"].get<long long>() >= 1 &&
                       body["weight"].get<long long>() <= kMaxBackendWeight;
    if (!valid) return reply_json(res, 400, {{"error", "body must be JSON like {\"weight\": 5} (1-1000)"}});
    const int weight = body["weight"].get<int>();
    backend->set_weight(weight);
    common::log_line("[Admin] " + backend->url + " weight " + std::to_string(weight));
    nlohmann::json reply = backend_status(*backend);
    share({BackendChange::Kind::Weight, backend->pool_name, backend->url, weight}, reply);
    reply_json(res, 200, reply);
  });
}

void AdminServer::install_routes() {
  httplib::Server& server = http_.server();

  // Bearer token check before any route, when a token is configured.
  // The dashboard page itself holds no data and a browser cannot send a bearer
  // token when opening a page, so only it is exempt; its script asks for the token.
  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    bool page = req.method == "GET" && req.path == "/";
    if (token_.empty() || page || req.get_header_value("Authorization") == "Bearer " + token_) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.set_header("WWW-Authenticate", "Bearer");
    reply_json(res, 401, {{"error", "missing or wrong bearer token"}});
    return httplib::Server::HandlerResponse::Handled;
  });

  server.Get("/status", [this](const httplib::Request&, httplib::Response& res) {
    nlohmann::json status =
        status_json(*context_.balancer.current(), context_.registry.open_connections(),
                    std::chrono::steady_clock::now() - context_.started, context_.registry.open_streams());
    if (context_.certificates) {
      status["certificates"] = certificates_json(*context_.certificates, std::chrono::system_clock::now());
    }
    if (context_.shared_config.status) status["config"] = context_.shared_config.status();
    reply_json(res, 200, status);
  });

  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::string text = metrics_text(*context_.balancer.current(), context_.metrics,
                                    context_.registry.open_connections(), context_.registry.open_streams());
    if (context_.certificates) text += certificates_metrics(*context_.certificates);
    res.set_content(text, "text/plain; version=0.0.4");
  });

  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(dashboard_html(), "text/html; charset=utf-8");
  });

  server.Post("/backends", [this](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object() || !body.contains("url") || !body["url"].is_string()) {
      return reply_json(res, 400, {{"error", "body must be JSON like {\"url\": \"http://host:port\", \"weight\": 1, \"pool\": \"default\"}"}});
    }
    if (body.contains("pool") && !body["pool"].is_string()) return reply_json(res, 400, {{"error", "pool must be a string"}});
    const std::string pool = body.value("pool", "default");
    std::string text = body["url"].get<std::string>();
    if (body.contains("weight")) {
      if (!body["weight"].is_number_integer()) return reply_json(res, 400, {{"error", "weight must be an integer"}});
      text += ",weight=" + std::to_string(body["weight"].get<int>());
    }
    BackendSpec spec;
    try {
      spec = parse_backend_spec(text);
    } catch (const std::invalid_argument& e) {
      return reply_json(res, 400, {{"error", e.what()}});
    }
    std::string error;
    std::shared_ptr<Backend> added = context_.balancer.add(pool, spec, error);
    if (!added) {
      const bool unknown_pool = !context_.balancer.current()->find(pool);
      return reply_json(res, unknown_pool ? 404 : 409, {{"error", error}});
    }
    common::log_line("[Admin] added backend " + spec.url() + " to pool " + pool);
    if (context_.check_health_soon) context_.check_health_soon();
    nlohmann::json reply = backend_status(*added);
    share({BackendChange::Kind::Add, pool, spec.url(), body.contains("weight") ? spec.weight : 0}, reply);
    reply_json(res, 201, reply);
  });

  server.Delete(R"(/backends/([0-9a-f]+))", [this](const httplib::Request& req, httplib::Response& res) {
    auto backend = context_.balancer.find(req.matches[1]);
    if (!backend || !context_.balancer.remove(backend->id)) return reply_json(res, 404, {{"error", "no such backend"}});
    common::log_line("[Admin] removed backend " + backend->url + " (in-flight requests finish)");
    nlohmann::json reply = backend_status(*backend);
    share({BackendChange::Kind::Remove, backend->pool_name, backend->url}, reply);
    reply_json(res, 200, reply);
  });

  // Content-reader handlers: a POST without Content-Length (`curl -X POST URL`)
  // has no body, but httplib 0.11 would otherwise wait for the client to close.
  // A body that was announced is still read, so it is not taken for the next request.
  auto set_draining = [this](bool draining) {
    return [this, draining](const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader& content_reader) {
      if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
        content_reader([](const char*, size_t) { return true; });
      }
      auto backend = context_.balancer.find(req.matches[1]);
      if (!backend) return reply_json(res, 404, {{"error", "no such backend"}});
      backend->draining = draining;
      common::log_line("[Admin] " + backend->url + (draining ? " draining" : " enabled"));
      nlohmann::json reply = backend_status(*backend);
      share({draining ? BackendChange::Kind::Drain : BackendChange::Kind::Enable, backend->pool_name, backend->url},
            reply);
      reply_json(res, 200, reply);
    };
  };
  server.Post(R"(/backends/([0-9a-f]+)/drain)", set_draining(true));
  server.Post(R"(/backends/([0-9a-f]+)/enable)", set_draining(false));

  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) reply_json(res, res.status, {{"error", reason_phrase(res.status)}});
  });
}

// Fault injection (README "Fault injection"): applied
// on our side by Exchange::apply_fault() and the health checker.
namespace {

// One value of PUT /pools/{name} as text for its parser: a number or a word.
std::string tuning_text(const nlohmann::json& value) {
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  return value.is_string() ? value.get<std::string>() : std::string("?");
}

}  // namespace

// PUT /pools/{name}: the pool's algorithm, limit and hedging, at run time
// (not saved: a reload goes back to the configuration).
void AdminServer::install_pool_routes() {
  http_.server().Put(R"(/pools/([A-Za-z0-9_-]+))", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object() || body.empty()) {
      return reply_json(res, 400, {{"error", "body must be JSON like {\"algorithm\": \"least-latency\", "
                                             "\"max_requests\": \"auto\", \"hedge_after\": \"auto\"}"}});
    }
    std::optional<std::string> algorithm;
    std::optional<RequestLimit> limit;
    std::optional<HedgePolicy> hedge;
    for (const auto& [key, value] : body.items()) {
      if (key == "algorithm") {
        if (!value.is_string()) return reply_json(res, 400, {{"error", "algorithm must be a string"}});
        algorithm = value.get<std::string>();
      } else if (key == "max_requests") {
        limit = RequestLimit::parse(tuning_text(value));
        if (!limit) return reply_json(res, 400, {{"error", "max_requests: use a number 0-100000 or \"auto\""}});
      } else if (key == "hedge_after") {
        hedge = HedgePolicy::parse(tuning_text(value));
        if (!hedge) return reply_json(res, 400, {{"error", "hedge_after: use milliseconds 1-60000, \"auto\" or \"off\""}});
      } else {
        return reply_json(res, 400, {{"error", "unknown key '" + key + "' (use algorithm, max_requests, hedge_after)"}});
      }
    }
    bool found = false;
    try {
      found = context_.balancer.retune(name, [&](PoolSettings& settings) {
        if (algorithm) settings.policy.algorithm = *algorithm;
        if (limit) settings.max_requests = *limit;
        if (hedge) settings.hedge = *hedge;
      });
    } catch (const std::invalid_argument& e) {
      return reply_json(res, 400, {{"error", e.what()}});
    }
    if (!found) return reply_json(res, 404, {{"error", "no pool named '" + name + "'"}});
    common::log_line("[Admin] pool " + name + " retuned: " + body.dump());
    reply_json(res, 200, pool_status(*context_.balancer.current()->find(name)));
  });
}

void AdminServer::install_fault_routes() {
  httplib::Server& server = http_.server();
  server.Put(R"(/backends/([0-9a-f]+)/fault)", [this](const httplib::Request& req, httplib::Response& res) {
    auto backend = context_.balancer.find(req.matches[1]);
    if (!backend) return reply_json(res, 404, {{"error", "no such backend"}});
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) return reply_json(res, 400, {{"error", "body is not JSON"}});
    FaultSettings fault;
    std::string error;
    if (!parse_fault(body, fault, error)) return reply_json(res, 400, {{"error", error}});
    backend->set_fault(fault);
    common::log_line("[Admin] " + backend->url + " fault " + fault_json(backend->fault()).dump());
    if (context_.check_health_soon) context_.check_health_soon();  // fail_health shows at once
    reply_json(res, 200, backend_status(*backend));
  });
  server.Delete(R"(/backends/([0-9a-f]+)/fault)", [this](const httplib::Request& req, httplib::Response& res) {
    auto backend = context_.balancer.find(req.matches[1]);
    if (!backend) return reply_json(res, 404, {{"error", "no such backend"}});
    backend->set_fault(FaultSettings{});
    common::log_line("[Admin] " + backend->url + " fault cleared");
    if (context_.check_health_soon) context_.check_health_soon();
    reply_json(res, 200, backend_status(*backend));
  });
}

void AdminServer::install_request_view_routes() {
  httplib::Server& server = http_.server();
  // ?after=ID: only the requests newer than that one (the dashboard polls with it).
  server.Get("/requests", [this](const httplib::Request& req, httplib::Response& res) {
    uint64_t after = 0;
    if (req.has_param("after")) {
      const std::string text = req.get_param_value("after");
      char* end = nullptr;
      after = std::strtoull(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || text[0] == '-') return reply_json(res, 400, {{"error", "after must be a request id"}});
    }
    nlohmann::json list = nlohmann::json::array();
    for (const RequestRecord& record : context_.requests.newest_first(after)) list.push_back(request_json(record));
    reply_json(res, 200, {{"requests", list}});
  });

  // Server-Sent Events: "id: N" and "data: {...}" per request, a comment line
  // as a keep-alive. It ends when the client leaves or the server stops.
  server.Get("/requests/stream", [this](const httplib::Request&, httplib::Response& res) {
    if (open_streams_.fetch_add(1) >= kMaxRequestStreams) {
      open_streams_.fetch_sub(1);
      return reply_json(res, 503, {{"error", "too many request streams open; poll GET /requests instead"}});
    }
    res.set_header("Cache-Control", "no-store");
    auto last_sent = std::make_shared<uint64_t>(context_.requests.last_sequence());
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, last_sent](size_t, httplib::DataSink& sink) {
          std::vector<RequestRecord> records = context_.requests.wait_after(*last_sent, kKeepAliveEvery);
          if (context_.requests.stopped()) return false;
          std::string events;
          if (records.empty()) events = ": keep-alive\n\n";
          if (records.size() > kMaxEventsPerBatch) {
            events = ": skipped " + std::to_string(records.size() - kMaxEventsPerBatch) + "\n\n";
            records.erase(records.begin(), records.end() - kMaxEventsPerBatch);
          }
          for (const RequestRecord& record : records) {
            events += "id: " + std::to_string(record.sequence) + "\ndata: " + request_json(record).dump() + "\n\n";
            *last_sent = record.sequence;
          }
          if (!sink.write(events.data(), events.size())) return false;
          if (!records.empty()) std::this_thread::sleep_for(kBatchPause);
          return true;
        },
        [this](bool) { open_streams_.fetch_sub(1); });
  });
}

}  // namespace lb
