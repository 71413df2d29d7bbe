#include "lb/operations/redirect_server.h"

#include <httplib.h>

namespace lb {

std::string https_location(const std::string& host_header, const std::string& target, int https_port) {
  std::string host = host_header;
  // Drop the port the client used (keeping IPv6 brackets), then add the HTTPS one.
  auto colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']', colon) == std::string::npos) host.erase(colon);
  if (host.empty()) host = "localhost";
  std::string port = https_port == 443 ? "" : ":" + std::to_string(https_port);
  return "https://" + host + port + (target.empty() ? "/" : target);
}

RedirectServer::RedirectServer(int https_port, const acme::ChallengeBoard* challenges) {
  // Every method and path: answer before routing.
  http_.server().set_pre_routing_handler([https_port, challenges](const httplib::Request& req,
                                                                  httplib::Response& res) {
    static const std::string kChallengePath = "/.well-known/acme-challenge/";
    if (challenges && req.method == "GET" && req.path.rfind(kChallengePath, 0) == 0) {
      if (auto answer = challenges->http01(req.path.substr(kChallengePath.size()))) {
        res.status = 200;
        res.set_content(*answer, "application/octet-stream");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    res.status = 308;
    res.set_header("Location", https_location(req.get_header_value("Host"), req.target, https_port));
    res.set_content("{\"error\":\"use HTTPS\"}", "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
}

}  // namespace lb
