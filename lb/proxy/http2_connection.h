// One HTTP/2 client connection (ALPN "h2", or --h2c prior knowledge), on
// nghttp2 (framing, HPACK, flow control), in the thread-per-connection design:
//
//   connection thread (this class)            worker thread (one per stream, pooled)
//   ------------------------------            --------------------------------------
//   owns the socket and nghttp2 session        Http2StreamClient::serve(): an Exchange,
//   HEADERS -> a MessageHead     ---------->   the same request path as HTTP/1.1
//   DATA    -> body bytes        ---------->   (route, choose, forward, relay)
//   HEADERS + DATA (+ trailers)  <----------   status, fields, body bytes, trailers
//                                              (Http2Response), wake-up (eventfd)
//
// The connection thread polls the socket and the eventfd together, so a
// slow backend on one stream holds up no other; a stream's error resets only
// that stream. No lock is held over I/O: each Http2Stream has its own, taken
// only to hand parts over. Limits: --h2-max-streams concurrent streams,
// --max-header-size for a HEADERS frame's fields (431), per-stream
// flow-control windows that bound buffered bytes both ways, and a client
// resetting streams faster than they finish (rapid reset, CVE-2023-44487)
// gets GOAWAY and is closed.
// A stop is graceful (RFC 9113 6.8, 8.7): streams a worker has begun finish,
// the others are refused with REFUSED_STREAM, and the GOAWAY names the last
// stream served, so a client knows which requests it may safely send again.
#pragma once

#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lb/proxy/http2_stream.h"
#include "lb/proxy/proxy_context.h"

namespace lb {

class Http2Connection {
 public:
  // As Http1Connection's: what the client used, its address, its verified certificate's subject ("": none).
  Http2Connection(ProxyContext& context, std::unique_ptr<Stream> client, const char* forwarded_proto,
                  std::string client_ip, std::string client_cert_subject = "");
  ~Http2Connection();
  Http2Connection(const Http2Connection&) = delete;
  Http2Connection& operator=(const Http2Connection&) = delete;

  // Serves streams until the client leaves, a protocol error, or the server stops.
  void serve();

 private:
  struct StreamState;  // one stream's state on this thread

  // nghttp2 callbacks, on this thread only.
  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t name_length,
                       const uint8_t* value, size_t value_length, uint8_t flags, void* self);
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int on_data_chunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data, size_t length,
                           void* self);
  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* self);
  static ssize_t read_response_body(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                                    uint32_t* data_flags, nghttp2_data_source* source, void* self);

  void open_stream(StreamState& state, bool body_follows);
  void start_workers();  // for the streams the last read opened and did not reset
  void pump_responses();  // workers' responses -> HEADERS / DATA, window given back
  void pump_response(StreamState& state);
  void submit_response_head(StreamState& state);
  static bool submit_trailers(nghttp2_session* session, StreamState& state);
  bool flush();                 // nghttp2's pending frames -> the socket
  bool too_many_resets();
  void go_away();               // a stop: refuse the streams no worker began, GOAWAY(last served)

  ProxyContext& context_;
  std::unique_ptr<Stream> client_;
  const char* forwarded_proto_;
  const std::string client_ip_;
  const std::string client_cert_subject_;  // for X-Client-Cert-Subject, on every stream
  // The streams' settings, pools and routes: reloaded when their generation moves.
  Snapshot<LiveSettings> live_;
  Snapshot<Topology> topology_;
  const ProxySettings settings_;  // the connection's own, taken once: a reload applies to new streams and connections
  std::shared_ptr<WakeUp> wake_;  // workers write, this thread polls; shared so a late worker never writes a reused fd
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::unique_ptr<StreamState>> streams_;
  std::string out_;  // frames gathered by flush(), written together
  std::vector<int32_t> unstarted_;  // streams opened by the read being handled, not yet given a worker
  std::vector<int32_t> pump_ids_;  // pump_responses()'s list, kept to reuse its memory
  std::chrono::steady_clock::time_point reset_window_start_;  // rapid reset: RST_STREAMs per second
  int resets_in_window_ = 0;
  bool going_away_ = false;  // go_away() has run (it runs once)
  int32_t last_closed_started_ = 0;  // the highest stream closed after its worker was started
};

}  // namespace lb
