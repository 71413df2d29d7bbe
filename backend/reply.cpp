#include "backend/reply.h"

#include <iterator>
#include <string>

namespace backend {

namespace {

// Request "headers" httplib itself adds after parsing (always the last entry
// of that name), describing the socket rather than anything the client sent.
bool is_httplib_pseudo_header(const std::string& name) {
  return name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
         name == "LOCAL_PORT";
}

}  // namespace

void reply_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  // Bodies and headers may hold any bytes; replace invalid UTF-8 instead of throwing.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                  "application/json");
}

nlohmann::json headers_json(const httplib::Headers& headers) {
  nlohmann::json out = nlohmann::json::object();
  // Headers is a case-insensitive multimap, so equal names are adjacent.
  for (auto it = headers.begin(); it != headers.end();) {
    auto range = headers.equal_range(it->first);
    auto last = std::prev(range.second);
    std::string joined;
    bool any = false;
    for (auto h = range.first; h != range.second; ++h) {
      if (h == last && is_httplib_pseudo_header(h->first)) continue;
      if (any) joined += ", ";
      joined += h->second;
      any = true;
    }
    if (any) out[range.first->first] = joined;
    it = range.second;
  }
  return out;
}

nlohmann::json hello_json(const BackendState& state, const httplib::Request& req) {
  return {{"message", "Hello from " + state.id() + "!"},
          {"server_id", state.id()},
          {"path", req.target},  // as received: path and query, not decoded
          {"headers", headers_json(req.headers)}};
}

nlohmann::json echo_json(const BackendState& state, const httplib::Request& req) {
  return {{"message", req.method + " request received by " + state.id()},
          {"server_id", state.id()},
          {"your_data", req.body},
          {"path", req.target},
          {"headers", headers_json(req.headers)}};
}

}  // namespace backend
