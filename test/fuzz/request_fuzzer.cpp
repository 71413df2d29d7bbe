// libFuzzer target: the request side of the proxy path, as an HTTP/1.1 connection and its exchange
// drives it. Bytes from a client are parsed in pieces (as TCP reads would
// split them), checked by message_rules, and forwarded as our own head plus
// the body re-framed by BodyWriter. What we would send a backend is then
// parsed again by a fresh parser, which must see exactly one request: the
// same method, target, host and body, framed the way we decided, with no
// byte left over to be read as a second request. Any difference is a way
// for one client's bytes to reach another client's request. Trailer fields
// of a chunked body arrive as sent, less those a proxy drops. Half the inputs
// go through a route with header rules and strip-prefix, which must change
// only the fields and the path they name. No forwarded field holds a
// control byte or a disguised framing name (disguised_framing_name()).
// test/fuzz/response_fuzzer.cpp does the same for the response side.
//
// Build and run: scripts/fuzz.sh SECONDS (clang, -fsanitize=fuzzer,address,undefined).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "lb/http/body_writer.h"
#include "lb/http/http_headers.h"
#include "lb/http/http_message_parser.h"
#include "lb/http/message_rules.h"
#include "lb/proxy/upstream_request_head.h"
#include "lb/routing/router.h"
#include "lb/transport/proxy_protocol.h"
#include "test/fuzz/fuzz_checks.h"
#include "test/support/memory_stream.h"

using namespace lb;
using namespace fuzz_checks;
using test_support::MemoryStream;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static constexpr size_t kPieces[] = {1, 2, 3, 7, 16, 61, 512, 1 << 20};
  const size_t piece = kPieces[size % 8];

  // The same bytes as a PROXY protocol header (what an L4 balancer sends first).
  ProxyHeader proxy = parse_proxy_header(reinterpret_cast<const char*>(data), size);
  if (proxy.status == ProxyHeader::Status::Ok) require(proxy.length <= size, "a PROXY header lies within its bytes");

  MessageParser request(HTTP_REQUEST, kMaxHead);
  size_t pos = 0;
  feed_while(request, MessageParser::Phase::Head, data, size, pos, piece);
  if (request.phase() == MessageParser::Phase::Error) {
    // Refused Transfer-Encoding: our rules must agree it is wrong (400 or 501).
    if (request.transfer_encoding_refused()) {
      Refusal refusal = check_transfer_encoding(request.head());
      require(refusal && (refusal.status == 400 || refusal.status == 501), "refused coding gets 400/501");
    }
    return 0;
  }
  if (request.phase() == MessageParser::Phase::Head) return 0;  // incomplete head: nothing forwarded
  const MessageHead& head = request.head();
  if (Refusal refusal = check_request_head(head)) {
    require(refusal.status == 400 || refusal.status == 405 || refusal.status == 501, "refusals are 400/405/501");
    return 0;
  }

  // What an exchange would send: our head, then the body as it arrives.
  const bool risky = body_framing_is_risky(head);
  UpstreamHeadOptions options;
  options.client_ip = (size & 16) ? "::1" : "10.1.2.3";
  options.forwarded_proto = "https";
  options.via_header = "Via: 1.1 fuzz\r\n";
  options.fallback_host = "backend:8001";
  options.forwarded_header = (size & 32) != 0;
  options.x_forwarded_headers = (size & 64) == 0;
  options.close_connection = risky;
  // A route: "/api" with strip-prefix, and rules that touch the client's
  // fields and ours but never the framing (the config refuses that).
  static const HeaderRules rules{{"x-forwarded-host", "cookie"}, {{"X-Env", "prod"}}, {{"X-Tag", "lb"}}};
  std::string routed_target;
  if (size & 128) {
    options.rules = &rules;
    if (path_matches("/api", target_path(head.view(head.target)))) {
      routed_target = strip_path_prefix(head.view(head.target), "/api");
      options.target = routed_target;
    }
  }
  std::string upstream_head;
  build_upstream_head(head, options, upstream_head);

  MemoryStream backend;
  BodyWriter writer;
  Framing framing = head.chunked ? Framing::Chunked : head.has_body() ? Framing::Length : Framing::None;
  writer.start(&backend, framing, Millis(1000));
  writer.queue(upstream_head.data(), upstream_head.size());
  TeeSink tee;
  tee.writer = &writer;
  request.set_body_sink(&tee);
  // A bodiless head may still be paused at its end: finish it as Http1Connection::read_request_head() does.
  if (request.phase() == MessageParser::Phase::Body && !head.has_body()) {
    pos += request.feed(reinterpret_cast<const char*>(data) + pos, size - pos);
  }
  feed_while(request, MessageParser::Phase::Body, data, size, pos, piece);
  require(writer.flush(), "memory stream accepts everything");
  if (request.phase() != MessageParser::Phase::Done) return 0;  // body cut short or invalid: connection closed
  require(writer.finish(&request.trailers()), "finish");

  // The backend's view: exactly one message, the same as ours.
  MessageParser seen(HTTP_REQUEST, kMaxHead * 4);
  CollectBody seen_body;
  seen.set_body_sink(&seen_body);
  size_t used = 0;
  while (seen.phase() != MessageParser::Phase::Done && seen.phase() != MessageParser::Phase::Error &&
         used < backend.bytes.size()) {
    size_t n = seen.feed(backend.bytes.data() + used, backend.bytes.size() - used);
    if (n == 0 && seen.phase() == MessageParser::Phase::Head) break;
    used += n;
  }
  require(seen.phase() == MessageParser::Phase::Done, "forwarded request parses to its end");
  require(used == backend.bytes.size(), "no byte after the forwarded request");
  const MessageHead& again = seen.head();
  require(!check_request_head(again), "forwarded head passes our own rules");
  require_clean_fields(again.fields, again.arena);
  require_clean_fields(seen.trailers().fields, seen.trailers().arena);
  require(again.view(again.method) == head.view(head.method), "same method");
  require(again.view(again.target) == (routed_target.empty() ? head.view(head.target) : routed_target),
          "same target, or the prefix stripped");
  require(request_host(again) == (request_host(head).empty() ? options.fallback_host : request_host(head)),
          "same host");
  require(seen_body.body == tee.decoded, "same body");
  require(trailer_lines(seen.trailers(), false) == trailer_lines(request.trailers(), true),
          "same trailers, less the forbidden ones");
  require(again.chunked == head.chunked, "same framing");
  if (!head.chunked) require(again.content_length == head.content_length || !head.has_body(), "same length");
  if (risky && !head.upgrade) require(!again.keep_alive, "risky body asks the backend to close");
  return 0;
}
