// Incremental, strict HTTP/1.x parsing on nodejs/http-parser.
//
// The parser stops twice per message, so the caller can act between the parts:
// once when the head is complete (to pick a backend before any body byte moves)
// and once when the message ends (so a pipelined next request is never touched).
// Body bytes are handed to a BodySink as they are parsed, never accumulated.
// The trailer fields of a chunked message are kept (trailers()), bounded by
// the head's byte limit and checked like head fields when the message ends.
// A control byte (HTAB aside) in any field name or value, head or trailer, is
// an error, whichever byte of the field it is and however reads split it.
#pragma once

#include <http_parser.h>

#include <cstddef>

#include "lb/http/message_head.h"

namespace lb {

class BodySink {
 public:
  virtual ~BodySink() = default;
  // Receives decoded body bytes (chunk framing removed). Return false to stop parsing.
  virtual bool on_body(const char* data, size_t len) = 0;
};

class MessageParser {
 public:
  enum class Phase { Head, Body, Done, Error };

  MessageParser(http_parser_type type, size_t max_head_bytes);
  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

  // Starts a new message. For a response to HEAD, pass `bodiless_response`.
  void reset(bool bodiless_response = false);

  // Parses up to `len` bytes and returns how many were consumed. Stops early
  // when the head completes and when the message ends.
  size_t feed(const char* data, size_t len);
  // Tells the parser the peer closed the connection (ends close-delimited bodies).
  void feed_eof();

  void set_body_sink(BodySink* sink) { sink_ = sink; }

  Phase phase() const { return phase_; }
  const MessageHead& head() const { return head_; }
  // The trailer fields after a chunked body's last chunk, complete once the
  // phase is Done; empty for other framings.
  const TrailerFields& trailers() const { return trailers_; }
  bool head_too_large() const { return head_too_large_; }
  // Whether the peer's body ends only when the connection closes (responses).
  bool close_delimited() const { return close_delimited_; }
  // http-parser refused the Transfer-Encoding (chunked not final): the
  // fields are complete, so message_rules can say why (400 or 501).
  bool transfer_encoding_refused() const;
  const char* error_text() const;

 private:
  static int on_message_begin(http_parser* p);
  static int on_url(http_parser* p, const char* at, size_t len);
  static int on_status(http_parser* p, const char* at, size_t len);
  static int on_header_field(http_parser* p, const char* at, size_t len);
  static int on_header_value(http_parser* p, const char* at, size_t len);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, size_t len);
  static int on_message_complete(http_parser* p);

  bool append(Span& span, const char* at, size_t len);
  bool append_trailer(Span& span, const char* at, size_t len);
  bool refuse_control_bytes(const char* at, size_t len, const char* part);
  bool in_trailers() const { return phase_ == Phase::Body; }  // header callbacks after the head are trailers
  size_t feed_method(const char* data, size_t len);
  bool scan_head_bytes(const char* data, size_t len);

  http_parser parser_;
  http_parser_settings settings_;
  http_parser_type type_;
  size_t max_head_bytes_;
  MessageHead head_;
  TrailerFields trailers_;
  std::string problem_;  // why we refused what http-parser accepted: a control byte, the trailers (error_text())
  Phase phase_ = Phase::Head;
  BodySink* sink_ = nullptr;
  bool bodiless_response_ = false;
  bool head_too_large_ = false;
  bool close_delimited_ = false;
  bool method_pending_ = true;  // requests: still collecting the method token
  // scan_head_bytes(): where the head's lines begin, to tell which field an
  // obs-fold continues, and whether a CR was the last byte seen (bare CR).
  bool at_line_start_ = true;
  bool after_cr_ = false;
  size_t lines_begun_ = 0;  // non-empty, non-folded lines so far: the start line, then one per field
  enum class Last { None, Field, Value } last_ = Last::None;
};

}  // namespace lb
