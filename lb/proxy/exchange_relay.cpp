// Exchange, part 3: step 7, the backend's response body relayed to the
// client as it arrives, through fixed buffers; compressed on the way when
// --compress (or the route) asks and compression_for() agrees.
#include <algorithm>
#include <optional>

#include "common/log.h"
#include "lb/http/compressing_outlet.h"
#include "lb/http/compression_policy.h"
#include "lb/proxy/connection_buffers.h"
#include "lb/proxy/exchange.h"

namespace lb {

namespace {

// How long a response head waits for the first bytes of its body before it
// goes to the client alone.
constexpr Millis kHeadWaitsForBody{50};

// Each library's level, chosen by CPU cost per MB against size
// (test/tools/compression_levels.cpp, README "Compression").
constexpr CompressionLevels kCompressionLevels{};

}  // namespace

AttemptFacts Exchange::relay_response(Stream& upstream, const Choice& choice) {
  MessageParser& parser = scratch_.response_parser;
  const MessageHead& response = parser.head();
  if (response.status == 101 && !request_.upgrade) return AttemptFacts::ended(AttemptEnd::BadGateway, "101 without an Upgrade request");
  ClientHeadOptions options = response_options(choice.set_cookie);
  const std::string trace = trace_value();
  options.trace_value = trace;
  ContentCoding coding = ContentCoding::Identity;
  std::unique_ptr<ResponseCompressor> compressor = response_compressor(response, coding);
  if (compressor) options.content_encoding = coding_name(coding);
  BodyOutlet& writer = client_.start_response(response, options);
  status_sent_ = response.status;
  std::optional<CompressingOutlet> compressing;
  if (compressor) compressing.emplace(writer, std::move(compressor));
  AttemptFacts facts = relay_body(upstream, compressing ? static_cast<BodyOutlet&>(*compressing) : writer);
  if (facts.end != AttemptEnd::Answered) return facts;
  body_bytes_sent_ = writer.body_bytes();
  if (response.status == 101) {
    client_.tunnel(upstream, scratch_.buffer + scratch_.begin, scratch_.end - scratch_.begin);
    scratch_.begin = scratch_.end = 0;
    return AttemptFacts::ended(AttemptEnd::CutShort, "tunnel closed");  // neither connection can carry HTTP again
  }
  return facts;
}

// An encoder, and its `coding`, when this response is to be compressed: the
// route's "compress" (else --compress) asks for it and compression_for() agrees.
std::unique_ptr<ResponseCompressor> Exchange::response_compressor(const MessageHead& response,
                                                                  ContentCoding& coding) const {
  const bool wanted = route_ && route_->compress ? *route_->compress : settings_.compress;
  if (!wanted) return nullptr;
  coding = compression_for(request_, response, settings_.compress_min_size);
  if (coding == ContentCoding::Identity) return nullptr;
  try {
    const uint64_t size = response.content_length != kNoContentLength ? response.content_length : kUnknownSize;
    return make_compressor(coding, kCompressionLevels, size);
  } catch (const std::exception& e) {  // out of memory: the body goes as it is
    common::log_line(std::string("compression: ") + e.what());
    return nullptr;
  }
}

// The body into `outlet` until the parser has seen its end, then its
// trailers. Answered, or how it was cut short.
AttemptFacts Exchange::relay_body(Stream& upstream, BodyOutlet& outlet) {
  MessageParser& parser = scratch_.response_parser;
  parser.set_body_sink(&outlet);
  // The head waits briefly for the body's first bytes: they leave in one
  // write, and a backend that dies between its head and its body (killed,
  // crashed) has then sent the client nothing, so the request can still be
  // retried elsewhere (or answered 502) instead of cut short.
  bool head_held = true;
  while (parser.phase() != MessageParser::Phase::Done) {
    if (scratch_.begin < scratch_.end) {
      scratch_.begin += parser.feed(scratch_.buffer + scratch_.begin, scratch_.end - scratch_.begin);
    }
    if (parser.phase() == MessageParser::Phase::Error) {
      return AttemptFacts::ended(AttemptEnd::CutShort, outlet.failed() ? "client gone" : "invalid response body");
    }
    if (parser.phase() == MessageParser::Phase::Done) break;
    if (head_held && outlet.body_bytes() > 0) head_held = false;
    // Queued bytes point into the upstream buffer: send them before reusing it.
    if (!head_held && !outlet.flush()) return AttemptFacts::ended(AttemptEnd::CutShort, "client gone");
    if (scratch_.begin == scratch_.end) scratch_.begin = scratch_.end = 0;
    const Millis wait = head_held ? std::min(kHeadWaitsForBody, settings_.backend_timeout) : settings_.backend_timeout;
    const ssize_t n =
        upstream.read(scratch_.buffer + scratch_.end, ConnectionBuffers::kBufferBytes - scratch_.end, wait);
    if (head_held && n == kTimeout) {  // a slow body: the head goes ahead alone
      head_held = false;
      continue;
    }
    if (n == kEof) {
      parser.feed_eof();  // ends a close-delimited body; anything else was cut short
      if (parser.phase() == MessageParser::Phase::Done) break;
    }
    if (n <= 0 && head_held) {
      status_sent_ = 0;  // nothing reached the client
      return AttemptFacts::ended(AttemptEnd::NoResponse, "connection closed after the response head");
    }
    if (n == kEof) return AttemptFacts::ended(AttemptEnd::CutShort, "backend closed mid-body");
    if (n < 0) return AttemptFacts::ended(AttemptEnd::CutShort, n == kTimeout ? "backend timeout mid-body" : "backend read error");
    scratch_.end += static_cast<size_t>(n);
  }
  if (!outlet.finish(&parser.trailers())) return AttemptFacts::ended(AttemptEnd::CutShort, "client gone");
  return AttemptFacts::ended(AttemptEnd::Answered, "");
}

}  // namespace lb
