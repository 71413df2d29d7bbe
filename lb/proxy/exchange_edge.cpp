// Exchange, the edge (README "Access control"): the checks that refuse a
// request before any backend is chosen, so a refused request never reaches
// one and never counts against a backend's health. --allow/--deny run before
// routing; a route's own allow/deny, basic auth and forward auth after it.
#include "common/log.h"
#include "lb/http/http_headers.h"
#include "lb/proxy/exchange.h"
#include "lb/proxy/forward_auth.h"

namespace lb {

std::optional<bool> Exchange::check_access(const AccessList& access, const std::string& where) {
  if (access.empty()) return std::nullopt;
  const AccessVerdict verdict = access.check(client_key());
  if (verdict) return std::nullopt;
  return refuse(verdict.refusal, verdict.rule + " (" + where + ")", 403, "forbidden");
}

std::optional<bool> Exchange::route_edge_checks() {
  if (!route_) return std::nullopt;
  if (std::optional<bool> refused = check_access(route_->access, "route " + route_->match_text())) return refused;
  if (route_->basic_auth) {
    if (std::optional<bool> refused = check_basic_auth(*route_->basic_auth)) return refused;
  }
  if (route_->forward_auth) return check_forward_auth(*route_->forward_auth);
  return std::nullopt;
}

// Basic auth: exactly one Authorization field with strict Basic credentials
// that the users file verifies. Failed attempts are charged to the client's
// failure bucket (ProxyContext::login_failures); an empty bucket is a 429
// before any hash is computed. The Authorization field is not forwarded.
std::optional<bool> Exchange::check_basic_auth(const BasicAuth& auth) {
  const ExtraFields challenge{{"WWW-Authenticate", "Basic realm=\"" + auth.realm + "\""}};
  size_t given = 0;
  std::string_view authorization;
  for (size_t i = 0; i < request_.fields.size(); ++i) {
    if (!iequals(request_.name(i), "authorization")) continue;
    ++given;
    authorization = request_.value(i);
  }
  if (given == 0) return refuse(EdgeRefusal::BasicAuth, "basic auth: no credentials", 401, "authentication required", challenge);
  const RateDecision room = context_.login_failures.peek(client_key());
  if (!room.allowed) {
    context_.metrics.rate_limited.fetch_add(1, std::memory_order_relaxed);
    return refuse(EdgeRefusal::BasicAuth, "basic auth: too many failed attempts", 429, "too many failed attempts",
                  {{"Retry-After", std::to_string(room.retry_after_seconds)}});
  }
  const std::optional<BasicCredentials> credentials = given == 1 ? parse_basic_credentials(authorization) : std::nullopt;
  // The hash runs on this request's thread with no lock held: bcrypt is slow on purpose.
  if (!credentials || !auth.users->verify(credentials->user, credentials->password)) {
    context_.login_failures.admit(client_key());
    context_.metrics.basic_auth_failures.fetch_add(1, std::memory_order_relaxed);
    return refuse(EdgeRefusal::BasicAuth, credentials ? "basic auth: wrong user or password" : "basic auth: malformed credentials",
                  401, "authentication required", challenge);
  }
  edge_headers_.remove.push_back("Authorization");
  trace_.note_edge("basic auth " + credentials->user);
  return std::nullopt;
}

// Forward auth: the auth service's 2xx lets the request on with its
// copy-headers (replacing any the client sent); any other answer goes back as
// it is; no usable answer is a 503 (fail closed), logged once per outage.
std::optional<bool> Exchange::check_forward_auth(ForwardAuthTarget& target) {
  const ForwardAuthAnswer answer =
      ask_forward_auth(target, {request_, setup_.client_ip, setup_.forwarded_proto, settings_.connect_timeout});
  if (answer.kind == ForwardAuthAnswer::Kind::Unavailable) {
    if (!target.failing.exchange(true)) {
      common::log_line("[Forward Auth] " + target.url + " gave no answer (" + answer.problem +
                       "); requests on its routes get 503 until it answers");
    }
    return refuse(EdgeRefusal::ForwardAuthUnavailable, "forward auth unavailable (" + answer.problem + ")", 503,
                  "authentication service unavailable");
  }
  if (target.failing.exchange(false)) common::log_line("[Forward Auth] " + target.url + " answers again");
  const int status = answer.head.status;
  if (answer.kind == ForwardAuthAnswer::Kind::Refused) {
    context_.metrics.edge_refused[static_cast<int>(EdgeRefusal::ForwardAuth)].fetch_add(1, std::memory_order_relaxed);
    trace_.note_edge("forward auth answered " + std::to_string(status), /*refused=*/true);
    return relay_auth_answer(answer.head, answer.body);
  }
  for (const std::string& name : target.copy_headers) {
    edge_headers_.remove.push_back(name);  // the client's own never pass for the auth service's
    for (size_t i = 0; i < answer.head.fields.size(); ++i) {
      if (iequals(answer.head.name(i), name)) edge_headers_.add.emplace_back(name, answer.head.value(i));
    }
  }
  trace_.note_edge("forward auth " + std::to_string(status));
  return std::nullopt;
}

// The auth service's refusal, to the client as it came (hop-by-hop fields
// aside, framing ours): a 401, a 403, a 302 to a login page. A request body
// left unread closes the connection after it.
bool Exchange::relay_auth_answer(const MessageHead& head, const std::string& body) {
  ClientHeadOptions options = response_options("");
  options.rules = nullptr;  // as it is: the route's response rules are for its backends
  const std::string trace = trace_value();
  options.trace_value = trace;
  BodyOutlet& writer = client_.start_response(head, options);
  status_sent_ = head.status;
  const bool bodiless = response_is_bodiless(head, request_.view(request_.method) == "HEAD");
  bool sent = bodiless || body.empty() || writer.on_body(body.data(), body.size());
  sent = writer.finish() && sent;
  body_bytes_sent_ = writer.body_bytes();
  return sent && client_.request_fully_read() && client_.keeps_connection();
}

// Our answer to a request the edge refuses: counted by reason, and the trace
// names the rule. The body may be unread: then the connection closes.
bool Exchange::refuse(EdgeRefusal refusal, const std::string& rule, int status, const std::string& message,
                      ExtraFields fields) {
  context_.metrics.edge_refused[static_cast<int>(refusal)].fetch_add(1, std::memory_order_relaxed);
  trace_.note_edge(rule, /*refused=*/true);
  return reply(status, message, !client_.request_fully_read(), std::move(fields));
}

}  // namespace lb
