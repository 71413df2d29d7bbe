#include "backend/routes.h"

#include <string>

#include "backend/reply.h"

namespace backend {

namespace {

// Short lower-case reason for the errors httplib raises on its own.
std::string error_text(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "not found";
    case 413: return "payload too large";
    case 414: return "uri too long";
    case 416: return "range not satisfiable";
    default: return "http status " + std::to_string(status);
  }
}

}  // namespace

void install_routes(httplib::Server& server, BackendState& state) {
  server.Get("/health", [&state](const httplib::Request&, httplib::Response& res) {
    if (state.failing()) {
      reply_json(res, 503, {{"status", "failing"}, {"server_id", state.id()}});
    } else {
      reply_json(res, 200, {{"status", "ok"}, {"server_id", state.id()}});
    }
  });

  server.Get("/", [&state](const httplib::Request& req, httplib::Response& res) {
    reply_json(res, 200, hello_json(state, req));
  });

  auto echo = [&state](const httplib::Request& req, httplib::Response& res) {
    reply_json(res, 200, echo_json(state, req));
  };
  server.Post("/.*", echo);
  server.Put("/.*", echo);
  server.Patch("/.*", echo);
  server.Delete("/.*", echo);

  // httplib calls this for every status >= 400; only fill in bodies the
  // handlers left empty (its own 404, 400, 413, ...).
  httplib::Server::HandlerWithResponse on_error = [&state](const httplib::Request& req,
                                                          httplib::Response& res) {
    if (!res.body.empty() || res.content_length_ > 0) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    reply_json(res, res.status,
               {{"error", error_text(res.status)}, {"server_id", state.id()}, {"path", req.target}});
    return httplib::Server::HandlerResponse::Handled;
  };
  server.set_error_handler(on_error);
}

}  // namespace backend
