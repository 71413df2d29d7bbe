// One request, from its parsed head to its release, whichever protocol
// brought it: an HTTP/1.1 connection (lb/proxy/http1_connection.h) and an
// HTTP/2 stream's worker (lb/proxy/http2_stream_client.h) both drive it
// through a ClientSide (lb/proxy/client_side.h). In order, one function each:
//
//   1 check   the head by the message rules     -> 400/405/501  check_request_head() (lb/http/message_rules.h)
//   2 limit   the client's rate                 -> 429          rate_limit()
//     edge    --allow/--deny                    -> 403          check_access() (exchange_edge.cpp)
//   3 route   the pool for its host and path    -> 404          route()
//     edge    the route's allow/deny, basic auth, forward auth
//                                   -> 403/401/429/the auth's answer/503  route_edge_checks()
//   4 choose  a backend of that pool: sticky
//             cookie, selector, circuit breaker -> 503          choose()
//   5 attempt forward the head and the streamed body on a pooled
//             connection (hedged on a second backend when slow:
//             exchange_hedge.cpp), read the response head      attempt() (exchange_attempt.cpp)
//   6 relay   the response body back, once its head is good    relay_response() (exchange_relay.cpp)
//   7 judge   how the attempt ended: failed? mark down? retry
//             elsewhere? which status           -> 502/504      judge_attempt() (lb/proxy/attempt_judge.h)
//   8 release the backend learns the outcome                    release() (exchange_record.cpp)
// serve() runs 1-3, forward_with_retries() 4-8 for each backend tried;
// run() accounts for the request afterwards (metrics, logs: account()).
//
// Its state is this one object, made per request; what it decides, each
// step returns (a Choice, AttemptFacts, a Verdict). What it reuses from the
// request before it (parsers, buffers) is in UpstreamScratch.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "lb/http/http_message_parser.h"
#include "lb/http/response_compressor.h"
#include "lb/operations/decision_trace.h"
#include "lb/operations/request_spans.h"
#include "lb/proxy/attempt_judge.h"
#include "lb/proxy/client_side.h"
#include "lb/proxy/proxy_context.h"

namespace lb {

struct UpstreamHeadOptions;  // lb/proxy/upstream_request_head.h

// Our Via entry (--via-name): the field added to a backend's head, and its
// value for the client's.
struct ViaEntry {
  explicit ViaEntry(const std::string& name) : header("Via: 1.1 " + name + "\r\n") {}
  std::string header;  // "Via: 1.1 <name>\r\n"
  std::string_view value() const { return std::string_view(header).substr(5, header.size() - 7); }  // "1.1 <name>"
};

// Who asks and with which settings: the same for every request on a
// connection (HTTP/2: on each of its streams).
struct ExchangeSetup {
  ProxyContext& context;
  const LiveSettings& live;                 // the settings this request runs with
  const Topology& topology;                 // pools and routes in service when it began (the caller holds them)
  std::string_view client_ip;               // the peer's address, or the one its PROXY header gave
  std::string_view forwarded_proto;         // "http" or "https": what the client used to reach us
  std::string_view client_cert_subject;     // its verified TLS client certificate's subject, "" without one
  std::string_view via_header;              // "Via: 1.1 <name>\r\n", for the backend
  std::string_view via_value;               // "1.1 <name>", for the client
  std::minstd_rand& random;                 // jitter of --try-timeout, injected faults
};

// What an exchange reuses from the one before it on the same connection (or
// worker thread), so a warm connection allocates nothing per request.
struct UpstreamScratch {
  explicit UpstreamScratch(size_t max_head_bytes)
      : max_head_bytes(max_head_bytes), response_parser(HTTP_RESPONSE, max_head_bytes) {}
  const size_t max_head_bytes;  // the response head's limit the parser was built with
  MessageParser response_parser;
  BodyWriter request_writer;  // the request head and body towards the backend
  std::string request_head;
  char* buffer = nullptr;     // backend bytes, ConnectionBuffers::kBufferBytes of them
  size_t begin = 0;           // read but not yet parsed: buffer[begin, end)
  size_t end = 0;
};

class Exchange {
 public:
  Exchange(const ExchangeSetup& setup, ClientSide& client, UpstreamScratch& scratch);
  // Serves the request and accounts for it. True when the client connection
  // may carry another request.
  bool run();

 private:
  using Clock = std::chrono::steady_clock;
  // Step 4's answer: the backend and the request's place on it, its
  // breaker's admission, the sticky cookie to set; or no backend, and why.
  struct Choice {
    std::shared_ptr<Backend> backend;
    BackendPlace place;  // counted in backend->active_requests until released
    CircuitTicket ticket;
    std::string set_cookie;  // empty when the client is pinned to it already
    QueueOutcome refused = QueueOutcome::NoBackend;  // without a backend: why
  };

  bool serve();                 // steps 1-8 but the accounting
  RateDecision rate_limit();    // step 2
  bool route();                 // step 3: sets route_, pool_, routed_target_
  const std::string& client_key();  // the client's address for per-client rules
  // The edge (exchange_edge.cpp): nullopt when the request may go on, else
  // it was answered and the value is serve()'s (the connection may go on).
  std::optional<bool> check_access(const AccessList& access, const std::string& where);
  std::optional<bool> route_edge_checks();
  std::optional<bool> check_basic_auth(const BasicAuth& auth);
  std::optional<bool> check_forward_auth(ForwardAuthTarget& target);
  bool relay_auth_answer(const MessageHead& head, const std::string& body);
  bool refuse(EdgeRefusal refusal, const std::string& rule, int status, const std::string& message,
              ExtraFields fields = {});
  bool forward_with_retries();  // steps 4-7, as often as the judge allows
  std::shared_ptr<Backend> pinned_backend(bool& cookie_seen) const;
  Choice choose(SelectionContext& selection, const std::shared_ptr<Backend>& pinned, bool cookie_seen);
  bool take_place(SelectionContext& selection, const std::shared_ptr<Backend>& pinned, Choice& choice);
  bool refuse_unplaced(const Choice& choice, const Verdict& last_failure);
  Millis first_byte_wait(Clock::time_point deadline);
  AttemptFacts attempt(Choice& choice, Millis first_byte_wait, bool fresh_connection);
  std::optional<Millis> hedge_delay() const;
  Choice choose_hedge(const Choice& first);
  bool race_hedge(Choice& choice, std::unique_ptr<Stream>& upstream, Backend::LatencyTicket& latency,
                  Clock::time_point& started, Millis first_byte_wait);
  bool apply_fault(Backend& backend, Millis& first_byte_wait, AttemptFacts& ended);
  AttemptFacts hold_slow_answer(Backend& backend, Clock::time_point forwarded_at, Millis first_byte_wait);
  void note_latency(Backend& backend, Backend::LatencyTicket ticket, Clock::time_point started,
                    const AttemptFacts& facts);
  std::unique_ptr<Stream> connect(Backend& backend, bool fresh_connection, bool& reused, AttemptFacts& failed);
  AttemptFacts send_request(Stream& upstream);
  AttemptFacts read_response_head(Stream& upstream, Millis first_byte_wait);
  bool retry_answer(int status) const;
  AttemptFacts relay_response(Stream& upstream, const Choice& choice);
  std::unique_ptr<ResponseCompressor> response_compressor(const MessageHead& response, ContentCoding& coding) const;
  AttemptFacts relay_body(Stream& upstream, BodyOutlet& outlet);
  void release(Backend& backend, const Choice& choice, const AttemptFacts& facts, const Verdict& verdict,
               bool budgeted_retry);
  bool reply(int status, const std::string& message, bool close, ExtraFields fields = {});
  ClientHeadOptions response_options(const std::string& set_cookie) const;
  std::string trace_value() const;
  void note_request_id();
  void account(Clock::time_point started, std::chrono::system_clock::time_point started_wall,
               const std::string& started_text);
  void write_access_log(const std::string& time, double seconds);
  void record_request(std::chrono::system_clock::time_point time, double seconds);
  // Spans (exchange_trace.cpp), each a no-op without --otlp-endpoint.
  void begin_spans();
  void end_spans();
  void open_attempt_span(const Backend& backend, bool hedge);  // sets attempt_span_
  void end_attempt_span(size_t attempt, const AttemptFacts& facts, std::string_view note = {});
  void settle_hedge_spans(size_t first_span, bool hedge_won, const AttemptFacts* hedge_failed);
  void add_trace_fields(UpstreamHeadOptions& options) const;  // the attempt's traceparent, the client's tracestate

  // Given by the connection.
  const ExchangeSetup& setup_;
  ProxyContext& context_;
  const ProxySettings& settings_;
  ClientSide& client_;
  const MessageHead& request_;
  UpstreamScratch& scratch_;
  std::uniform_real_distribution<double> unit_random_{0.0, 1.0};

  // This request's facts, as the steps learn them.
  bool replayable_ = false;       // is_replayable(): may be sent to a second backend
  bool risky_body_ = false;       // body_framing_is_risky(): Connection: close upstream, never pooled
  bool expects_continue_ = false; // Expect: 100-continue with a body
  bool continue_sent_ = false;
  bool may_retry_answer_ = false;  // this attempt's --retry-on-status answer may go unrelayed (retries left)
  Clock::time_point first_byte_at_{};  // this attempt's first response byte ({}: none yet)
  const Route* route_ = nullptr;       // the route that matched; nullptr: no routes
  const BackendPool* pool_ = nullptr;  // the pool it routed to
  std::string routed_target_;          // the target after strip-prefix; "" when sent as received
  std::string client_key_;             // client_key(), once asked
  HeaderRules edge_headers_;           // the edge's changes to the forwarded head (Authorization, forward auth's)
  std::string request_id_;             // --request-id-header: this request's id
  bool request_id_is_new_ = false;     // we made it up: it goes to the backend too
  DecisionTrace trace_;
  std::optional<RequestSpans> spans_;  // --otlp-endpoint only: this request's spans
  size_t attempt_span_ = 0;            // the attempt under way, in spans_ (its id goes in traceparent)
  // What it ended as, for metrics and logs.
  int status_sent_ = 0;
  uint64_t body_bytes_sent_ = 0;
  std::string answered_by_;            // URL of the backend that answered
  double upstream_seconds_ = 0;        // time spent with backends
};

}  // namespace lb
