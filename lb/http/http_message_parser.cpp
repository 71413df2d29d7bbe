#include "lb/http/http_message_parser.h"

#include "common/http_text.h"
#include "lb/http/message_rules.h"

#include <cstring>
#include <string>
#include <unordered_set>

namespace lb {

namespace {

constexpr size_t kMaxMethodLength = 32;

// http-parser only knows a fixed list of methods; any other token is carried
// through by feeding the parser a stand-in (see feed_method()).
bool parser_knows_method(std::string_view method) {
  static const std::unordered_set<std::string_view> known = [] {
    std::unordered_set<std::string_view> names;
    for (int m = 0;; ++m) {
      const char* name = http_method_str(static_cast<http_method>(m));
      if (std::strcmp(name, "<unknown>") == 0) break;
      names.insert(name);
    }
    return names;
  }();
  return known.count(method) != 0;
}

MessageParser& self(http_parser* p) { return *static_cast<MessageParser*>(p->data); }

}  // namespace

MessageParser::MessageParser(http_parser_type type, size_t max_head_bytes)
    : type_(type), max_head_bytes_(max_head_bytes) {
  http_parser_settings_init(&settings_);
  settings_.on_message_begin = on_message_begin;
  settings_.on_url = on_url;
  settings_.on_status = on_status;
  settings_.on_header_field = on_header_field;
  settings_.on_header_value = on_header_value;
  settings_.on_headers_complete = on_headers_complete;
  settings_.on_body = on_body;
  settings_.on_message_complete = on_message_complete;
  reset();
}

void MessageParser::reset(bool bodiless_response) {
  http_parser_init(&parser_, type_);
  parser_.data = this;
  head_.clear();
  trailers_.clear();
  problem_.clear();
  phase_ = Phase::Head;
  bodiless_response_ = bodiless_response;
  head_too_large_ = false;
  close_delimited_ = false;
  method_pending_ = type_ == HTTP_REQUEST;
  last_ = Last::None;
  at_line_start_ = true;
  after_cr_ = false;
  lines_begun_ = 0;
}

bool MessageParser::transfer_encoding_refused() const {
  return phase_ == Phase::Error && HTTP_PARSER_ERRNO(&parser_) == HPE_INVALID_TRANSFER_ENCODING;
}

const char* MessageParser::error_text() const {
  if (head_too_large_) return "header section too large";
  if (!problem_.empty()) return problem_.c_str();
  if (method_pending_ && phase_ == Phase::Error) return "invalid method";
  return http_errno_description(HTTP_PARSER_ERRNO(&parser_));
}

// Collects the request method ourselves, then feeds http-parser either the
// method (when it knows it) or a stand-in "GET": framing rules do not depend on
// the method (CONNECT aside, which the proxy refuses), so any token can pass.
size_t MessageParser::feed_method(const char* data, size_t len) {
  size_t i = 0;
  for (; i < len; ++i) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    if (head_.method.length == 0 && (c == '\r' || c == '\n')) continue;  // empty lines before a request
    if (c == ' ') break;
    if (!common::is_token_char(c) || head_.method.length >= kMaxMethodLength) {
      phase_ = Phase::Error;
      return i;
    }
    head_.arena.push_back(static_cast<char>(c));
    ++head_.method.length;
  }
  if (i == len) return len;  // method continues in the next read

  method_pending_ = false;
  at_line_start_ = false;  // the request line has begun
  lines_begun_ = 1;
  std::string_view method = head_.view(head_.method);
  std::string start = parser_knows_method(method) ? std::string(method) : std::string("GET");
  start.push_back(' ');
  size_t n = http_parser_execute(&parser_, &settings_, start.data(), start.size());
  if (n != start.size() || HTTP_PARSER_ERRNO(&parser_) != HPE_OK) {
    phase_ = Phase::Error;
    return i;
  }
  return i + 1;  // the space was fed as part of `start`
}

size_t MessageParser::feed(const char* data, size_t len) {
  if (phase_ == Phase::Done || phase_ == Phase::Error) return 0;
  if (HTTP_PARSER_ERRNO(&parser_) == HPE_PAUSED) http_parser_pause(&parser_, 0);

  size_t consumed = 0;
  if (method_pending_) {
    consumed = feed_method(data, len);
    if (method_pending_ || phase_ == Phase::Error) return consumed;
  }
  size_t budget = len - consumed;
  if (phase_ == Phase::Head) {
    size_t used = head_.arena.size() + head_.fields.size() * 4;
    if (used >= max_head_bytes_) {
      head_too_large_ = true;
      phase_ = Phase::Error;
      return consumed;
    }
  }
  if (budget == 0) return consumed;  // a zero-length execute would mean EOF to http-parser
  if (phase_ == Phase::Body && after_cr_) {
    // http-parser pauses at the head's end before its last byte, the LF
    // after the final CR, and takes whatever comes there for it.
    after_cr_ = false;
    if (data[consumed] != '\n') {
      problem_ = "bare CR in the header section";
      phase_ = Phase::Error;
      return consumed;
    }
  }
  const bool in_head = phase_ == Phase::Head;
  size_t n = http_parser_execute(&parser_, &settings_, data + consumed, budget);
  const bool bare_cr = in_head && !scan_head_bytes(data + consumed, n);
  consumed += n;
  if (bare_cr) {
    problem_ = "bare CR in the header section";
    phase_ = Phase::Error;
    return consumed;
  }
  http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if (err != HPE_OK && err != HPE_PAUSED) phase_ = Phase::Error;
  return consumed;
}

void MessageParser::feed_eof() {
  if (phase_ == Phase::Done || phase_ == Phase::Error) return;
  if (HTTP_PARSER_ERRNO(&parser_) == HPE_PAUSED) http_parser_pause(&parser_, 0);
  http_parser_execute(&parser_, &settings_, nullptr, 0);
  if (phase_ != Phase::Done) phase_ = Phase::Error;
}

// http-parser joins an obs-fold line (one starting with SP or HTAB) to the
// field before it without saying so. A scan of the head bytes it consumed
// marks that field, so rules can refuse folds inside Host or framing headers.
// Bytes consumed past the head's end (body, next message) hold no line
// starts that matter: `folded` is only ever set on head fields.
// The same scan finds a CR not followed by LF: the non-strict parser takes
// any byte after the CR ending the status line or the head for its LF
// ("\r\n\rabc" would start a body at "bc"), and no callback sees either.
// False when it found one; the byte after the head's last CR is checked by
// feed() when the body begins.
bool MessageParser::scan_head_bytes(const char* data, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    char c = data[i];
    if (after_cr_ && c != '\n') return false;
    after_cr_ = c == '\r';
    if (at_line_start_ && c != '\r' && c != '\n') {
      if (c != ' ' && c != '\t') {
        ++lines_begun_;
      } else if (lines_begun_ >= 2 && lines_begun_ - 2 < head_.fields.size()) {
        head_.fields[lines_begun_ - 2].folded = true;  // continues the field on line lines_begun_
      }
    }
    at_line_start_ = c == '\n';
  }
  return true;
}

bool MessageParser::append(Span& span, const char* at, size_t len) {
  if (head_.arena.size() + len > max_head_bytes_) {
    head_too_large_ = true;
    return false;
  }
  if (span.length == 0) span.offset = static_cast<uint32_t>(head_.arena.size());
  head_.arena.append(at, len);
  span.length += static_cast<uint32_t>(len);
  return true;
}

// The trailer section has a budget of its own, the same as the head's, and
// counts its fields as the head does (an empty field still costs memory).
bool MessageParser::append_trailer(Span& span, const char* at, size_t len) {
  if (trailers_.arena.size() + trailers_.fields.size() * 4 + len > max_head_bytes_) {
    problem_ = "trailer section too large";
    return false;
  }
  if (span.length == 0) span.offset = static_cast<uint32_t>(trailers_.arena.size());
  trailers_.arena.append(at, len);
  span.length += static_cast<uint32_t>(len);
  return true;
}

int MessageParser::on_message_begin(http_parser*) { return 0; }

int MessageParser::on_url(http_parser* p, const char* at, size_t len) {
  auto& s = self(p);
  return s.append(s.head_.target, at, len) ? 0 : 1;
}

int MessageParser::on_status(http_parser* p, const char* at, size_t len) {
  auto& s = self(p);
  return s.append(s.head_.reason, at, len) ? 0 : 1;
}

// Debian's http-parser is the non-strict build, and its s_header_value_start
// state does not check a value's first byte: "X: \0value" would reach the
// backend. So every byte it hands these callbacks is checked here, piece by
// piece however the reads split it. An obs-fold arrives as the next piece of
// the same value beginning with its SP or HTAB (the CRLF before it is never
// handed over), and line ends never are, so no legitimate piece holds a
// control byte other than HTAB.
bool MessageParser::refuse_control_bytes(const char* at, size_t len, const char* part) {
  if (!has_control_byte(std::string_view(at, len))) return false;
  problem_ = std::string("control byte in a ") + (in_trailers() ? "trailer " : "header ") + part;
  return true;
}

int MessageParser::on_header_field(http_parser* p, const char* at, size_t len) {
  auto& s = self(p);
  if (s.refuse_control_bytes(at, len, "name")) return 1;
  std::vector<HeaderField>& fields = s.in_trailers() ? s.trailers_.fields : s.head_.fields;
  if (s.last_ != Last::Field) fields.push_back(HeaderField{});
  s.last_ = Last::Field;
  if (s.in_trailers()) return s.append_trailer(fields.back().name, at, len) ? 0 : 1;
  return s.append(fields.back().name, at, len) ? 0 : 1;
}

int MessageParser::on_header_value(http_parser* p, const char* at, size_t len) {
  auto& s = self(p);
  if (s.refuse_control_bytes(at, len, "value")) return 1;
  s.last_ = Last::Value;
  if (s.in_trailers()) return s.append_trailer(s.trailers_.fields.back().value, at, len) ? 0 : 1;
  return s.append(s.head_.fields.back().value, at, len) ? 0 : 1;
}

int MessageParser::on_headers_complete(http_parser* p) {
  auto& s = self(p);
  MessageHead& head = s.head_;
  head.http_major = p->http_major;
  head.http_minor = p->http_minor;
  head.status = p->status_code;
  head.chunked = (p->flags & F_CHUNKED) != 0;
  head.content_length =
      (!head.chunked && (p->flags & F_CONTENTLENGTH)) ? p->content_length : kNoContentLength;
  bool http11 = p->http_major > 1 || (p->http_major == 1 && p->http_minor >= 1);
  head.keep_alive = http11 ? !(p->flags & F_CONNECTION_CLOSE) : (p->flags & F_CONNECTION_KEEP_ALIVE) != 0;
  head.upgrade = p->upgrade;
  // We never switch protocols here: an Upgrade request is an ordinary request
  // whose body (if any) must still be framed, never left as "other protocol".
  p->upgrade = 0;

  bool bodiless = false;
  if (s.type_ == HTTP_RESPONSE) {
    bodiless = s.bodiless_response_ || head.status / 100 == 1 || head.status == 204 || head.status == 304;
    s.close_delimited_ = !bodiless && !head.chunked && head.content_length == kNoContentLength;
    if (s.close_delimited_) head.keep_alive = false;
  }
  s.phase_ = Phase::Body;
  s.last_ = Last::None;     // a trailer's first name starts a new field
  http_parser_pause(p, 1);  // hand control back: the head is ready
  return bodiless ? 1 : 0;
}

int MessageParser::on_body(http_parser* p, const char* at, size_t len) {
  auto& s = self(p);
  if (s.sink_ != nullptr && !s.sink_->on_body(at, len)) return 1;
  return 0;
}

int MessageParser::on_message_complete(http_parser* p) {
  auto& s = self(p);
  if (!s.trailers_.empty()) {
    s.problem_ = check_trailer_fields(s.trailers_);
    if (!s.problem_.empty()) return 1;  // an error: the message is not complete
  }
  s.phase_ = Phase::Done;
  http_parser_pause(p, 1);  // leave any pipelined bytes for the next message
  return 0;
}

}  // namespace lb
