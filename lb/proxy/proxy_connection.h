// One client connection, served on its own thread with blocking I/O.
//
// For each request on the connection, in order:
//   1 read and parse the request head (strict http-parser)     read_request_head()
//   2 check it: message_rules, size limits, rate limit
//     -> 400/405/501/413/429                                    handle_request()
//   3 route: the pool for its host and path (Router)  -> 404    route_request()
//   4 select a backend of that pool: sticky cookie, Selector (one short
//     lock), circuit breaker                          -> 503    choose_backend()
//   5 forward head and streamed body on a pooled keep-alive connection   forward()
//     (an injected fault may delay or abort the attempt first)         apply_fault()
//   6 read the response head, stream the body back                relay_response()
//   7 release: active-request guard, pool the upstream connection only when
//     both sides must agree where the exchange ended (may_reuse_upstream),
//     retry on another backend when the backend could not be reached -> 502/504
// A 101 Switching Protocols answer to an Upgrade request (WebSocket) turns the
// connection into a two-way byte tunnel until either side closes.   tunnel()
//
// Steps 1, 2, 5, 7 are in proxy_connection.cpp, step 6 in
// proxy_connection_response.cpp; the decisions (rate limit, route, backend
// choice, breaker, faults, trace, access log, request view) in proxy_connection_policies.cpp;
// the heads it writes (with the route's header rules) in proxy_connection_heads.cpp;
// the tunnel in proxy_connection_tunnel.cpp.
#pragma once

#include <memory>
#include <random>
#include <string>

#include "lb/http/body_writer.h"
#include "lb/http/http_message_parser.h"
#include "lb/operations/decision_trace.h"
#include "lb/proxy/connection_buffers.h"
#include "lb/proxy/proxy_context.h"

namespace lb {

class ProxyConnection {
 public:
  // `forwarded_proto`: "http" or "https", what the client used to reach us;
  // `client_ip`: the peer's address, or the one its PROXY header gave.
  // `refuse_proxy_header`: close without an answer if the first bytes are one.
  ProxyConnection(ProxyContext& context, std::unique_ptr<Stream> client, const char* forwarded_proto,
                  std::string client_ip, bool refuse_proxy_header = false);
  // Serves requests until the client leaves, framing can no longer be trusted,
  // or the server stops.
  void serve();
  // Serves the one request of an HTTP/2 stream. It is served even when the
  // server is stopping: the stream was accepted before the stop (the GOAWAY
  // names it as processed, Http2Connection::go_away()).
  void serve_stream();

 private:
  // How one attempt to forward the request to one backend ended.
  enum class Outcome {
    Completed,       // the response went to the client
    CannotConnect,   // nothing was sent; any request may go to another backend
    NoResponse,      // the connection died before any response byte
    BadGateway,      // the backend sent garbage or a truncated head
    Timeout,         // the backend did not answer in time
    BodyTooLarge,    // the client's chunked body passed --max-body-size
    BadRequestBody,  // the client's body framing was invalid
    Aborted,         // client gone, or the response broke after it started
    InjectedAbort,   // an injected fault (admin API) answered instead of the backend
  };
  struct Attempt {
    Outcome outcome;
    std::string detail;
    int status = 0;  // InjectedAbort: the status the fault answers with
  };

  enum class HeadResult { Ready, Closed, Rejected };
  HeadResult read_request_head();
  bool serve_request();   // steps 1-7 for one request; true: keep the connection
  bool handle_request();  // true: keep the connection for another request
  bool admit_by_rate_limit();
  void refresh_settings();
  bool sends_proxy_header();
  void note_request_id();
  bool route_request();
  std::shared_ptr<Backend> choose_backend(SelectionContext& selection, const std::shared_ptr<Backend>& pinned);
  void record_outcome(Backend& backend, bool success, bool budgeted_retry);
  std::shared_ptr<Backend> pinned_backend();
  bool apply_fault(Backend& backend, Attempt& ended);
  Attempt forward(Backend& backend, bool fresh_connection);
  Attempt send_request(Stream& upstream);
  Attempt read_response_head(Stream& upstream);
  Attempt relay_response(Stream& upstream);
  void tunnel(Stream& upstream);
  void build_upstream_head(const Backend& backend);
  void build_response_head(Framing framing);
  bool reply_error(int status, const std::string& message, bool close, const std::string& extra_headers = "");
  bool reply_unreachable(const Attempt& last);  // 504 after a timeout, else 502
  bool request_fully_read() const;
  void append_trace(std::string& out) const;
  void write_access_log(const std::string& time, double seconds);
  void record_request(std::chrono::system_clock::time_point time, double seconds);

  ProxyContext& context_;
  std::shared_ptr<const LiveSettings> live_;  // the settings this request runs with (refresh_settings())
  uint64_t live_generation_;                  // LiveSettingsStore::generation() when live_ was loaded
  ProxySettings settings_;                    // live_->proxy, copied: read on every step
  std::unique_ptr<Stream> client_;
  const char* forwarded_proto_;
  std::string client_ip_;
  std::string via_header_;  // "Via: 1.1 <name>\r\n", added to every message we pass on
  bool refuse_proxy_header_;  // until the first bytes show they are not a PROXY header

  MessageParser request_parser_;
  MessageParser response_parser_;
  BodyWriter upstream_writer_;  // request head + body towards the backend
  BodyWriter client_writer_;    // response head + body towards the client
  std::string upstream_head_;   // reused for every request: no allocation once warm
  std::string response_head_;
  bool expects_continue_ = false;  // client sent Expect: 100-continue with a body
  bool continue_sent_ = false;
  bool keep_client_ = false;       // decided per response
  bool risky_body_ = false;        // body_framing_is_risky(): Connection: close upstream, never pooled
  Millis first_byte_wait_{0};      // this attempt's wait for the response's first byte
  std::minstd_rand random_;        // jitter of --try-timeout (seeded per connection)
  std::uniform_real_distribution<double> unit_random_{0.0, 1.0};
  ConnectionRegistry::Slot* registry_slot_ = nullptr;  // this connection's idle/busy flag
  std::shared_ptr<const Topology> topology_;  // pools and routes in service when this request began
  uint64_t topology_generation_ = 0;          // Balancer::generation() when topology_ was loaded
  const Route* route_ = nullptr;              // the route that matched (in topology_); nullptr: no routes
  const BackendPool* pool_ = nullptr;         // the pool it routed to (in topology_)
  std::string routed_target_;                 // the target after strip-prefix; "" when sent as received
  std::string request_id_;                    // --request-id-header: this request's id
  bool request_id_is_new_ = false;            // we made it up: it goes to the backend too
  int status_sent_ = 0;                      // final status of the current request, for metrics
  uint64_t body_bytes_sent_ = 0;             // response body bytes of the current request
  std::string answered_by_;                  // URL of the backend that answered, for the access log
  double upstream_seconds_ = 0;              // time spent with backends for the current request
  bool sticky_cookie_seen_ = false;          // the request carried our sticky cookie
  CircuitTicket breaker_ticket_;             // the chosen backend's breaker admitted the attempt with this
  DecisionTrace trace_;
  std::string sticky_set_cookie_;  // Set-Cookie value to add, empty when the client is pinned already

  ConnectionBuffers::Handle buffers_ = ConnectionBuffers::for_connection();
  // Client bytes read but not yet parsed: buffers_->client()[client_begin_, client_end_).
  size_t client_begin_ = 0;
  size_t client_end_ = 0;
  // Backend bytes read but not yet parsed: buffers_->upstream()[upstream_begin_, upstream_end_).
  size_t upstream_begin_ = 0;
  size_t upstream_end_ = 0;
};

}  // namespace lb
