// The client's side of one exchange, whichever protocol carries it: an
// HTTP/1.1 connection (lb/proxy/http1_connection.h) or an HTTP/2 stream
// (lb/proxy/http2_stream_client.h). The exchange (lb/proxy/exchange.h) reads
// the request through it and writes the response through it; how each
// protocol frames them stays behind it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lb/http/body_writer.h"
#include "lb/http/message_head.h"
#include "lb/proxy/client_response_head.h"
#include "lb/transport/stream.h"

namespace lb {

// Fields of our own for an answer we write (Retry-After, the request id, ...).
using ExtraFields = std::vector<std::pair<std::string, std::string>>;

// How passing the request body to the backend ended.
enum class BodyPass {
  Done,            // all of it, and its trailers, went out
  TooLarge,        // over --max-body-size
  Invalid,         // its framing was broken (error text in `problem`)
  ClientGone,      // the client stopped sending
  UpstreamFailed,  // the backend stopped taking it
};

class ClientSide {
 public:
  virtual ~ClientSide() = default;

  // The request head, complete and parsed (HTTP/2: built from HEADERS, as
  // an HTTP/1.1 request would carry it).
  virtual const MessageHead& request() const = 0;
  // "HTTP/1.0", "HTTP/1.1" or "HTTP/2.0", for the access log.
  virtual std::string protocol() const = 0;
  // The rest of the request body (and its trailers) into `upstream`, which
  // frames it for the backend. `problem`: why, when Invalid.
  virtual BodyPass pass_request_body(BodyWriter& upstream, std::string& problem) = 0;
  // True once the whole request (body and trailers) has been read.
  virtual bool request_fully_read() const = 0;

  // Expect: 100-continue: a backend is reachable, the client may send its body.
  virtual bool send_continue() = 0;
  // An interim (1xx) response from the backend (HTTP/2 clients do without).
  virtual bool send_interim(const MessageHead& response, const ClientHeadOptions& options) = 0;
  // Starts the final response. The head may wait in the writer until its
  // first flush(), to leave with the first body bytes.
  virtual BodyOutlet& start_response(const MessageHead& response, ClientHeadOptions& options) = 0;
  // Our own answer, `body` being error_body()'s JSON. `close`: the
  // connection ends after it. False when the client is gone or the
  // connection must close.
  virtual bool reply(int status, const std::string& body, bool close, const ExtraFields& fields) = 0;
  // After a 101 to an Upgrade request: bytes both ways until one side closes
  // (`upstream_bytes`: what the backend sent behind its head).
  virtual void tunnel(Stream& upstream, const char* upstream_bytes, size_t count) = 0;
  // True once the client has hung up (HTTP/2: reset the stream), asked
  // while the request waits in a pool's queue.
  virtual bool client_gone() = 0;
  // After a response: whether the connection may carry another request.
  virtual bool keeps_connection() const = 0;
};

}  // namespace lb
