// libFuzzer target: the response side of the proxy path, as an exchange
// drives it (read_response_head(), relay_response()). Bytes from a backend
// are parsed in pieces (as TCP reads would split them) and checked by
// check_response_head(); 1xx interim responses are passed on and the next
// one read; the final one gets our head (build_client_response_head()) and
// its body re-framed by BodyWriter as client_body_framing() decides. What we
// would send the client is then parsed again by a fresh parser, which must
// see the same interim statuses, then the same status and body bytes, the
// trailer fields less those a proxy drops (when the client gets a chunked
// body), no byte left over, and a head our own rules accept: no control byte
// and no disguised framing name in any field. Half the inputs go through a
// route with response header rules. The request is a GET or a HEAD, from an
// HTTP/1.1 or HTTP/1.0 client, chosen by the input's size; half the inputs
// ask for gzip under --compress (minimum size 0), and a response that
// compression_for() compresses must reach the client with one
// Content-Encoding, no Content-Length, and a body that decodes to the
// backend's bytes.
//
// Build and run: scripts/fuzz.sh SECONDS (clang, -fsanitize=fuzzer,address,undefined).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "lb/http/body_writer.h"
#include "lb/http/compressing_outlet.h"
#include "lb/http/compression_policy.h"
#include "lb/http/http_headers.h"
#include "lb/http/http_message_parser.h"
#include "lb/http/message_rules.h"
#include "lb/proxy/client_response_head.h"
#include "lb/routing/header_rules.h"
#include "test/fuzz/fuzz_checks.h"
#include "test/support/decompress.h"
#include "test/support/memory_stream.h"

namespace {

using namespace lb;
using namespace fuzz_checks;
using test_support::MemoryStream;

// Parses one message from `bytes` at `pos` with `parser` (already reset).
void parse_one(MessageParser& parser, const std::string& bytes, size_t& pos, bool eof_ends) {
  while (parser.phase() != MessageParser::Phase::Done && parser.phase() != MessageParser::Phase::Error &&
         pos < bytes.size()) {
    size_t n = parser.feed(bytes.data() + pos, bytes.size() - pos);
    if (n == 0 && parser.phase() == MessageParser::Phase::Head) break;
    pos += n;
  }
  if (eof_ends && pos == bytes.size() && parser.phase() == MessageParser::Phase::Body) parser.feed_eof();
}

// The coding --compress would choose for `response` to a client that accepts gzip.
ContentCoding gzip_if_compressed(const MessageHead& response, bool head_request, bool client_http11) {
  MessageParser request(HTTP_REQUEST, kMaxHead);
  const std::string text = std::string(head_request ? "HEAD" : "GET") + " / HTTP/1." + (client_http11 ? "1" : "0") +
                           "\r\nHost: a\r\nAccept-Encoding: gzip\r\n\r\n";
  request.feed(text.data(), text.size());
  return compression_for(request.head(), response, 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static constexpr size_t kPieces[] = {1, 2, 3, 7, 16, 61, 512, 1 << 20};
  const size_t piece = kPieces[size % 8];
  const bool head_request = (size & 8) != 0;
  const bool client_http11 = (size & 16) == 0;
  const bool with_rules = (size & 32) != 0;
  const bool with_request_id = (size & 64) != 0;
  const bool compress = (size & 256) != 0;

  // What the backend sends, read as Exchange::read_response_head() does.
  MessageParser response(HTTP_RESPONSE, kMaxHead);
  response.reset(head_request);
  MemoryStream client;
  std::vector<int> interim_statuses;  // the 1xx responses passed on to the client
  ClientHeadOptions options;
  options.via_value = "1.1 fuzz";
  // A route's rules touch the backend's fields and ours, never the framing (the config refuses that).
  static const HeaderRules rules{{"server", "x-request-id"}, {{"X-Env", "prod"}}, {{"X-Tag", "lb"}}};
  if (with_rules) options.rules = &rules;
  if (with_request_id) {
    options.request_id_header = "X-Request-ID";
    options.request_id = "0123456789abcdef";
  }
  options.client_http11 = client_http11;
  std::string head_bytes;
  size_t pos = 0;
  for (;;) {
    feed_while(response, MessageParser::Phase::Head, data, size, pos, piece);
    if (response.phase() == MessageParser::Phase::Error) return 0;  // 502
    if (response.phase() == MessageParser::Phase::Head) return 0;   // incomplete head: 502 at the close
    if (!check_response_head(response.head()).empty()) return 0;  // 502
    const int status = response.head().status;
    if (status / 100 != 1) break;
    if (status == 101) return 0;  // a tunnel (for an Upgrade request) or a 502: no more HTTP either way
    // 1xx: complete it (it has no body), pass it on to HTTP/1.1 clients, read on.
    feed_while(response, MessageParser::Phase::Body, data, size, pos, piece);
    if (response.phase() != MessageParser::Phase::Done) return 0;
    if (client_http11) {
      build_client_response_head(response.head(), Framing::None, options, head_bytes);
      client.bytes.append(head_bytes);
      interim_statuses.push_back(status);
    }
    response.reset(head_request);
  }

  // The final response, as relay_response() streams it.
  const MessageHead& head = response.head();
  const bool compressed =
      compress && gzip_if_compressed(head, head_request, client_http11) == ContentCoding::Gzip;
  if (compressed) options.content_encoding = "gzip";
  const Framing framing = client_body_framing(head, head_request, client_http11, compressed);
  options.keep_client = framing != Framing::Close && (size & 128) == 0;  // the client may have asked to close
  build_client_response_head(head, framing, options, head_bytes);
  BodyWriter writer;
  writer.start(&client, framing, Millis(1000));
  writer.queue(head_bytes.data(), head_bytes.size());
  std::optional<CompressingOutlet> compressing;
  if (compressed) compressing.emplace(writer, make_compressor(ContentCoding::Gzip, CompressionLevels{}));
  TeeSink tee;
  tee.writer = compressing ? static_cast<BodyOutlet*>(&*compressing) : &writer;
  response.set_body_sink(&tee);
  feed_while(response, MessageParser::Phase::Body, data, size, pos, piece);
  if (response.phase() == MessageParser::Phase::Body) response.feed_eof();  // the backend closed
  require(tee.writer->flush(), "memory stream accepts everything");
  if (response.phase() != MessageParser::Phase::Done) return 0;  // cut short or invalid: the client is cut off
  require(tee.writer->finish(&response.trailers()), "finish");

  // The client's view: the interim responses, then exactly the final one.
  MessageParser seen(HTTP_RESPONSE, kMaxHead * 4);
  CollectBody seen_body;
  size_t used = 0;
  for (int status : interim_statuses) {
    seen.reset(head_request);
    parse_one(seen, client.bytes, used, false);
    require(seen.phase() == MessageParser::Phase::Done, "interim response parses to its end");
    require(seen.head().status == status, "same interim status");
    require(check_response_head(seen.head()).empty(), "interim head passes our own rules");
    require_clean_fields(seen.head().fields, seen.head().arena);
  }
  seen.reset(head_request);
  seen.set_body_sink(&seen_body);
  parse_one(seen, client.bytes, used, true);
  require(seen.phase() == MessageParser::Phase::Done, "forwarded response parses to its end");
  require(used == client.bytes.size(), "no byte after the forwarded response");
  const MessageHead& again = seen.head();
  require(check_response_head(again).empty(), "forwarded head passes our own rules");
  require_clean_fields(again.fields, again.arena);
  require(again.status == head.status, "same status");
  require(again.view(again.reason) == head.view(head.reason), "same reason phrase");
  if (compressed) {
    bool complete = false;
    require(test_support::decode_gzip(seen_body.body, &complete) == tee.decoded && complete, "same body, gzipped");
    require(again.content_length == kNoContentLength, "no Content-Length on a compressed body");
    size_t codings = 0;
    for (size_t i = 0; i < again.fields.size(); ++i) codings += iequals(again.name(i), "content-encoding") ? 1 : 0;
    require(codings == 1, "one Content-Encoding");
  } else {
    require(seen_body.body == tee.decoded, "same body");
  }
  require_clean_fields(seen.trailers().fields, seen.trailers().arena);
  if (framing == Framing::Chunked) {
    require(trailer_lines(seen.trailers(), false) == trailer_lines(response.trailers(), true),
            "same trailers, less the forbidden ones");
  } else {
    require(seen.trailers().empty(), "no trailers without a chunked body");
  }
  // A client told to keep its connection must be able to tell where the response ends.
  if (options.keep_client) require(again.keep_alive && !seen.close_delimited(), "kept connections are framed");
  if (framing == Framing::Close) require(!again.keep_alive, "close-delimited ends the connection");
  return 0;
}
