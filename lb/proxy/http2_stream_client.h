// The worker's side of one HTTP/2 stream: the ClientSide its Exchange
// drives (lb/proxy/client_side.h), on a worker thread of its own. The
// request head and body come from the Http2Stream as the connection thread
// received them; the response goes back as parts (Http2Response), which the
// connection thread turns into HEADERS and DATA frames.
#pragma once

#include <memory>
#include <string>

#include "lb/proxy/client_side.h"
#include "lb/proxy/http2_stream.h"
#include "lb/proxy/proxy_context.h"

namespace lb {

class Http2StreamClient : public ClientSide, private BodyOutlet {
 public:
  // `live`, `topology`: the settings, pools and routes in force when the
  // stream's HEADERS came (the connection thread's snapshots).
  Http2StreamClient(ProxyContext& context, std::shared_ptr<Http2Stream> stream, const char* forwarded_proto,
                    std::string client_ip, std::string client_cert_subject, std::shared_ptr<const LiveSettings> live,
                    std::shared_ptr<const Topology> topology);
  // Serves the stream's request. It is served even when the server is
  // stopping: the stream was accepted before the stop (the GOAWAY names it
  // as processed, Http2Connection::go_away()).
  void serve();

  // ClientSide
  const MessageHead& request() const override { return stream_->request; }
  std::string protocol() const override { return "HTTP/2.0"; }
  BodyPass pass_request_body(BodyWriter& upstream, std::string& problem) override;
  bool request_fully_read() const override { return request_read_; }
  bool send_continue() override { return true; }  // HTTP/2 clients send the body without waiting
  bool send_interim(const MessageHead&, const ClientHeadOptions&) override { return true; }  // dropped
  BodyOutlet& start_response(const MessageHead& response, ClientHeadOptions& options) override;
  bool reply(int status, const std::string& body, bool close, const ExtraFields& fields) override;
  void tunnel(Stream&, const char*, size_t) override {}  // never: an HTTP/2 request has no Upgrade
  bool client_gone() override { return stream_->was_reset(); }
  bool keeps_connection() const override { return false; }  // one request per stream

 private:
  // BodyOutlet: the response body, handed over at each flush().
  bool on_body(const char* data, size_t len) override;
  bool flush() override;
  bool finish(const TrailerFields* trailers) override;
  bool failed() const override { return failed_; }
  uint64_t body_bytes() const override { return body_bytes_; }

  ProxyContext& context_;
  const std::shared_ptr<Http2Stream> stream_;
  const char* forwarded_proto_;
  const std::string client_ip_;
  const std::string client_cert_subject_;  // its connection's, for X-Client-Cert-Subject
  const std::shared_ptr<const LiveSettings> live_;  // the settings this stream runs with
  const std::shared_ptr<const Topology> topology_;
  bool request_read_;            // the request body and trailers are all read
  Http2Response pending_;        // the response parts not yet handed over
  uint64_t body_bytes_ = 0;
  bool failed_ = false;
};

}  // namespace lb
