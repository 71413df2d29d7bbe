// The request head the proxy sends to a backend, built from the client's.
//
// Header bytes pass through as received; hop-by-hop headers are dropped, the
// forwarding headers (X-Forwarded-*, Forwarded, Via, X-Client-Cert-Subject) added, and the framing
// (Host, Transfer-Encoding, Connection) written by us alone, so the backend
// reads the message exactly as we did. A route's header rules are applied on
// the way, to the client's fields and to the ones we add alike. A pure function, so the fuzz target
// (test/fuzz) can check that what it writes parses back to the same request.
#pragma once

#include <string>
#include <string_view>

#include "lb/http/message_head.h"
#include "lb/routing/header_rules.h"

namespace lb {

class StickySessions;

struct UpstreamHeadOptions {
  std::string_view client_ip;        // "127.0.0.1", "::1": X-Forwarded-For, Forwarded
  std::string_view forwarded_proto;  // "http" or "https", what the client used to reach us
  std::string_view client_cert_subject;  // the client's verified certificate (--tls-client-ca): X-Client-Cert-Subject
  std::string_view via_header;       // "Via: 1.1 <name>\r\n", added as is
  std::string_view fallback_host;    // Host for a request without one (HTTP/1.0)
  std::string_view target;           // the request-target to send ("": the client's; strip-prefix sets it)
  const HeaderRules* rules = nullptr;     // the route's request-headers
  const HeaderRules* edge_rules = nullptr; // the edge's: Authorization dropped (basic auth), forward auth's fields set
  std::string_view request_id_header;     // a fresh id to add: --request-id-header's name...
  std::string_view request_id;            // ...and value ("" when the client sent one, or off)
  std::string_view traceparent;           // --otlp-endpoint: the attempt's, replacing the client's...
  std::string_view tracestate;            // ...and the client's tracestate, as received ("" none)
  const StickySessions* sticky = nullptr;  // its cookie is stripped before forwarding
  bool x_forwarded_headers = true;   // --no-x-forwarded off
  bool forwarded_header = false;     // --forwarded-headers
  bool drop_expect = false;          // we answered Expect: 100-continue ourselves
  bool close_connection = false;     // ask the backend to close after its response
};

// Writes the head for `request` (already accepted by check_request_head())
// into `out`, replacing what it held. The Host sent is request_host(): the
// authority of an absolute-form target wins over the Host field.
void build_upstream_head(const MessageHead& request, const UpstreamHeadOptions& options, std::string& out);

}  // namespace lb
