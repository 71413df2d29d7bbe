// One HTTP/1.1 client connection, served on its own thread with blocking I/O:
// the connection loop. It owns the framing: reading request heads (strict
// http-parser, with the idle, header-time and size limits), keep-alive,
// pipelined requests, the request body's framing, the response head and body
// framing, and the byte tunnel after a 101. Each request it reads is one
// Exchange (lb/proxy/exchange.h), which it serves as that exchange's
// ClientSide (lb/proxy/client_side.h).
//
// The loop is in http1_connection.cpp, the ClientSide in
// http1_client_side.cpp, the tunnel in http1_tunnel.cpp.
#pragma once

#include <memory>
#include <random>
#include <string>

#include "lb/http/body_writer.h"
#include "lb/http/http_message_parser.h"
#include "lb/proxy/client_side.h"
#include "lb/proxy/connection_buffers.h"
#include "lb/proxy/exchange.h"
#include "lb/proxy/proxy_context.h"

namespace lb {

class Http1Connection : public ClientSide {
 public:
  // `forwarded_proto`: "http" or "https", what the client used to reach us;
  // `client_ip`: the peer's address, or the one its PROXY header gave;
  // `client_cert_subject`: its verified TLS client certificate's subject, or "".
  // `refuse_proxy_header`: close without an answer if the first bytes are one.
  Http1Connection(ProxyContext& context, std::unique_ptr<Stream> client, const char* forwarded_proto,
                  std::string client_ip, std::string client_cert_subject = "", bool refuse_proxy_header = false);
  // Serves requests until the client leaves, framing can no longer be trusted,
  // or the server stops.
  void serve();

  // ClientSide (http1_client_side.cpp)
  const MessageHead& request() const override { return request_parser_.head(); }
  std::string protocol() const override;
  BodyPass pass_request_body(BodyWriter& upstream, std::string& problem) override;
  bool request_fully_read() const override { return request_parser_.phase() == MessageParser::Phase::Done; }
  bool send_continue() override;
  bool send_interim(const MessageHead& response, const ClientHeadOptions& options) override;
  BodyOutlet& start_response(const MessageHead& response, ClientHeadOptions& options) override;
  bool reply(int status, const std::string& body, bool close, const ExtraFields& fields) override;
  void tunnel(Stream& upstream, const char* upstream_bytes, size_t count) override;
  bool client_gone() override;
  bool keeps_connection() const override { return keep_client_; }

 private:
  enum class HeadResult { Ready, Closed, Rejected };
  bool serve_request();  // one request: read its head, run its exchange
  HeadResult read_request_head();
  HeadResult refuse_head();  // the parser refused the head: 431, 400 or 501
  bool reply_error(int status, const std::string& message);  // before an exchange: closes
  void refresh_settings();
  bool sends_proxy_header();
  bool read_client(Millis timeout);  // more client bytes into the buffer; false: gone or timed out

  ProxyContext& context_;
  Snapshot<LiveSettings> live_;  // the settings this request runs with (refresh_settings())
  Snapshot<Topology> topology_;  // pools and routes in service
  std::unique_ptr<Stream> client_;
  const char* forwarded_proto_;
  std::string client_ip_;
  std::string client_cert_subject_;  // for X-Client-Cert-Subject ("": none)
  ViaEntry via_;  // added to every message we pass on
  bool refuse_proxy_header_;  // until the first bytes show they are not a PROXY header
  std::minstd_rand random_;   // the exchanges' jitter and faults (seeded per connection)

  MessageParser request_parser_;
  BodyWriter client_writer_;   // response head + body towards the client
  std::string response_head_;  // reused for every response: no allocation once warm
  bool keep_client_ = false;   // decided per request, then per response
  bool first_request_ = true;  // none served yet: the connection is not idle (kFirstRequestGrace)
  const std::chrono::steady_clock::time_point accepted_at_ = std::chrono::steady_clock::now();
  ConnectionRegistry::Slot* registry_slot_ = nullptr;  // this connection's idle/busy flag

  ConnectionBuffers::Handle buffers_ = ConnectionBuffers::for_connection();
  // Client bytes read but not yet parsed: buffers_->client()[client_begin_, client_end_).
  size_t client_begin_ = 0;
  size_t client_end_ = 0;
  UpstreamScratch upstream_;  // the exchanges' backend side; its buffer is buffers_->upstream()
};

}  // namespace lb
