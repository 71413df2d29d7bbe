// Exchange, part 3: step 7, the backend's response body relayed to the
// client as it arrives, through fixed buffers.
#include <algorithm>

#include "lb/proxy/connection_buffers.h"
#include "lb/proxy/exchange.h"

namespace lb {

namespace {

// How long a response head waits for the first bytes of its body before it
// goes to the client alone.
constexpr Millis kHeadWaitsForBody{50};

}  // namespace

AttemptFacts Exchange::relay_response(Stream& upstream, const Choice& choice) {
  MessageParser& parser = scratch_.response_parser;
  const MessageHead& response = parser.head();
  if (response.status == 101 && !request_.upgrade) return AttemptFacts::ended(AttemptEnd::BadGateway, "101 without an Upgrade request");
  ClientHeadOptions options = response_options(choice.set_cookie);
  const std::string trace = trace_value();
  options.trace_value = trace;
  BodyOutlet& writer = client_.start_response(response, options);
  status_sent_ = response.status;
  parser.set_body_sink(&writer);
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
      return AttemptFacts::ended(AttemptEnd::CutShort, writer.failed() ? "client gone" : "invalid response body");
    }
    if (parser.phase() == MessageParser::Phase::Done) break;
    if (head_held && writer.body_bytes() > 0) head_held = false;
    // Queued bytes point into the upstream buffer: send them before reusing it.
    if (!head_held && !writer.flush()) return AttemptFacts::ended(AttemptEnd::CutShort, "client gone");
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
  if (!writer.finish(&parser.trailers())) return AttemptFacts::ended(AttemptEnd::CutShort, "client gone");
  body_bytes_sent_ = writer.body_bytes();
  if (response.status == 101) {
    client_.tunnel(upstream, scratch_.buffer + scratch_.begin, scratch_.end - scratch_.begin);
    scratch_.begin = scratch_.end = 0;
    return AttemptFacts::ended(AttemptEnd::CutShort, "tunnel closed");  // neither connection can carry HTTP again
  }
  return AttemptFacts::ended(AttemptEnd::Answered, "");
}

}  // namespace lb
