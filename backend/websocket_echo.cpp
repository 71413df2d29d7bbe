#include "backend/websocket_echo.h"

#include "common/http_text.h"

#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

namespace backend::websocket {

namespace {

using Clock = std::chrono::steady_clock;

// Fixed by RFC 6455 section 1.3; mixed into every Sec-WebSocket-Accept.
constexpr char kAcceptGuid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
// How often a wait for the client looks at stopping().
constexpr std::chrono::milliseconds kStopCheck{200};
// After our close frame: how long to wait for the client to close its side, so
// the kernel does not answer its late bytes with a reset that could eat our close.
constexpr std::chrono::milliseconds kCloseLinger{1000};
// Buffers that grew past this for a big message are given back once it is done,
// so one 16 MB message does not pin 16 MB for the rest of a long session.
constexpr std::size_t kKeepCapacity = 1024 * 1024;

using common::iequals;
using common::trim_ows;

// 16 random bytes in base64: 22 alphabet characters and "==".
bool valid_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  return std::all_of(key.begin(), key.begin() + 22, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  });
}

// One client's socket after the handshake, with the bytes read but not yet parsed.
class Connection {
 public:
  enum class Read { kOk, kClosed, kIdle, kStopping };

  Connection(int fd, std::string buffered, const EchoOptions& options,
             const std::function<bool()>& stopping)
      : in(std::move(buffered)), fd_(fd), options_(options), stopping_(stopping) {}

  // Waits until `in` holds at least `n` bytes. The idle clock restarts with every byte.
  Read fill(std::size_t n) {
    auto idle_deadline = Clock::now() + options_.idle_timeout;
    char chunk[64 * 1024];
    while (in.size() < n) {
      if (stopping_()) return Read::kStopping;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(idle_deadline -
                                                                         Clock::now());
      if (left.count() <= 0) return Read::kIdle;
      if (!wait(POLLIN, std::min(left, kStopCheck))) continue;
      ssize_t got = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) return Read::kClosed;  // closed without a close frame, or reset
      in.append(chunk, static_cast<std::size_t>(got));
      idle_deadline = Clock::now() + options_.idle_timeout;
    }
    return Read::kOk;
  }

  // Writes all of `bytes`; false when the client is gone or stops reading.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      if (!wait(POLLOUT, options_.write_timeout)) return false;
      ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (sent < 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }

  // Drops the first `n` bytes of `in` (a frame that has been handled).
  void consume(std::size_t n) {
    in.erase(0, n);
    if (in.capacity() > kKeepCapacity && in.size() < kKeepCapacity) in.shrink_to_fit();
  }

  bool send_frame(Opcode opcode, std::string_view payload) {
    return send(encode_frame_header(opcode, payload.size())) && send(payload);
  }

  // Sends a close frame with `payload` (a code and maybe a reason, or nothing),
  // ends our side and waits briefly for the client to end its side.
  void close(std::string_view payload) {
    if (!send_frame(Opcode::kClose, payload)) return;
    ::shutdown(fd_, SHUT_WR);
    auto deadline = Clock::now() + kCloseLinger;
    char discard[4096];
    for (std::chrono::milliseconds left = kCloseLinger; left.count() > 0 && wait(POLLIN, left);
         left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())) {
      ssize_t got = ::recv(fd_, discard, sizeof discard, MSG_DONTWAIT);
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) return;
    }
  }
  void close(std::uint16_t code) {
    const char payload[2] = {static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    close(std::string_view(payload, 2));
  }

  // Ends the session after fill() failed: say goodbye unless the client is gone.
  void finish(Read why) {
    if (why != Read::kClosed) close(kCloseGoingAway);
  }

  std::string in;  // received bytes not yet consumed, from the start of a frame

 private:
  bool wait(short events, std::chrono::milliseconds timeout) {
    pollfd p{fd_, events, 0};
    int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    return ready > 0;  // errors and hang-ups count as ready; recv/send then report them
  }

  int fd_;
  const EchoOptions& options_;
  const std::function<bool()>& stopping_;
};

// Answers a close frame from the client: echo its status code, or refuse a
// malformed one (RFC 6455 section 5.5.1).
void answer_close(Connection& conn, std::string_view payload) {
  if (payload.empty()) return conn.close(std::string_view());
  if (payload.size() == 1) return conn.close(kCloseProtocolError);
  auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                         static_cast<unsigned char>(payload[1]));
  // 1004-1006 and 1015 are reserved: they must never be sent on the wire.
  bool known = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
               (code >= 3000 && code <= 4999);
  if (!known) return conn.close(kCloseProtocolError);
  if (!valid_utf8(payload.substr(2))) return conn.close(kCloseInvalidData);
  conn.close(code);
}

}  // namespace

std::optional<std::string> upgrade_key(std::string_view head, std::string_view path) {
  std::size_t end = head.find("\r\n");
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view line = head.substr(0, end);
  std::string_view target = line.substr(std::min(line.size(), std::size_t{4}));
  target = target.substr(0, target.find(' '));
  if (line.substr(0, 4) != "GET " || line.substr(4 + target.size()) != " HTTP/1.1" ||
      target.substr(0, target.find('?')) != path) {
    return std::nullopt;
  }
  std::string upgrade, connection, version;
  std::optional<std::string> key;
  for (std::size_t start = end + 2; (end = head.find("\r\n", start)) != std::string_view::npos;
       start = end + 2) {
    std::string_view field = head.substr(start, end - start);
    std::size_t colon = field.find(':');
    if (colon == std::string_view::npos) continue;  // the blank line that ends the head
    std::string_view name = field.substr(0, colon);
    std::string value(trim_ows(field.substr(colon + 1)));
    // Repeated list headers add to the list; a repeated key is ambiguous.
    if (iequals(name, "Upgrade")) upgrade += "," + value;
    if (iequals(name, "Connection")) connection += "," + value;
    if (iequals(name, "Sec-WebSocket-Version")) version += "," + value;
    if (iequals(name, "Sec-WebSocket-Key")) key = key ? std::string() : value;
  }
  if (!common::header_list_contains(upgrade, "websocket") || !common::header_list_contains(connection, "upgrade") ||
      version != ",13" || !key || !valid_key(*key)) {
    return std::nullopt;
  }
  return key;
}

std::string accept_value(std::string_view key) {
  std::string input = std::string(key) + kAcceptGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_Digest(input.data(), input.size(), digest, &digest_size, EVP_sha1(), nullptr);
  unsigned char base64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int length = EVP_EncodeBlock(base64, digest, static_cast<int>(digest_size));
  return std::string(reinterpret_cast<char*>(base64), static_cast<std::size_t>(length));
}

std::optional<FrameHeader> parse_frame_header(std::string_view data) {
  if (data.size() < 2) return std::nullopt;
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(data[i]); };
  FrameHeader h;
  h.fin = (byte(0) & 0x80) != 0;
  h.rsv = byte(0) & 0x70;
  h.opcode = byte(0) & 0x0F;
  h.masked = (byte(1) & 0x80) != 0;
  h.length = byte(1) & 0x7F;
  // 126 and 127 announce a 16-bit or 64-bit big-endian length after these two bytes.
  std::size_t extra = h.length == 126 ? 2 : h.length == 127 ? 8 : 0;
  h.size = 2 + extra + (h.masked ? 4 : 0);
  if (data.size() < h.size) return std::nullopt;
  if (extra > 0) {
    h.length = 0;
    for (std::size_t i = 0; i < extra; ++i) h.length = (h.length << 8) | byte(2 + i);
  }
  if (h.masked) {
    for (std::size_t i = 0; i < 4; ++i) h.mask[i] = byte(2 + extra + i);
  }
  return h;
}

std::uint16_t frame_error(const FrameHeader& h, bool in_message) {
  if (h.rsv != 0 || !h.masked) return kCloseProtocolError;  // no extensions; clients must mask
  if (h.length >> 63) return kCloseProtocolError;            // the top bit must be zero
  switch (static_cast<Opcode>(h.opcode)) {
    case Opcode::kContinuation:
      return in_message ? 0 : kCloseProtocolError;  // nothing to continue
    case Opcode::kText:
    case Opcode::kBinary:
      return in_message ? kCloseProtocolError : 0;  // the previous message is unfinished
    case Opcode::kClose:
    case Opcode::kPing:
    case Opcode::kPong:
      // Control frames may come between fragments but are never fragmented themselves.
      return h.fin && h.length <= 125 ? 0 : kCloseProtocolError;
  }
  return kCloseProtocolError;  // reserved opcode
}

std::string encode_frame_header(Opcode opcode, std::uint64_t length) {
  std::string out(1, static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode)));
  // Past 125 the length moves to the next 2 (up to 65535) or 8 bytes, big-endian.
  std::size_t extra = length < 126 ? 0 : length <= 0xFFFF ? 2 : 8;
  out += static_cast<char>(extra == 0 ? length : extra == 2 ? 126 : 127);
  for (std::size_t i = extra; i > 0; --i) out += static_cast<char>(length >> (8 * (i - 1)));
  return out;
}

void unmask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& mask) {
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>(data[i] ^ mask[i % 4]);
}

bool valid_utf8(std::string_view text) {
  static constexpr std::uint32_t kSmallest[5] = {0, 0, 0x80, 0x800, 0x10000};  // by length
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                                      : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (length == 0 || text.size() - i < length) return false;
    std::uint32_t code_point = length == 1 ? c : c & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (length > 1 && (code_point < kSmallest[length] || code_point > 0x10FFFF ||
                       (code_point >= 0xD800 && code_point <= 0xDFFF))) {
      return false;
    }
    i += length;
  }
  return true;
}

void serve_echo(int fd, std::string_view key, std::string buffered, const EchoOptions& options,
                const std::function<bool()>& stopping) {
  Connection conn(fd, std::move(buffered), options, stopping);
  if (!conn.send("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                 accept_value(key) + "\r\n\r\n")) {
    return;
  }
  std::string message;  // the data message being received, joined from its fragments
  auto message_opcode = Opcode::kText;
  bool in_message = false;
  for (;;) {
    std::optional<FrameHeader> header;
    while (!(header = parse_frame_header(conn.in))) {
      auto why = conn.fill(conn.in.size() + 1);
      if (why != Connection::Read::kOk) return conn.finish(why);
    }
    if (std::uint16_t code = frame_error(*header, in_message)) return conn.close(code);
    // Refuse an over-size message before reading its payload, not after.
    bool control = header->opcode >= 0x8;
    std::size_t so_far = control ? 0 : message.size();
    if (header->length > options.max_message_bytes - so_far) return conn.close(kCloseTooBig);

    auto length = static_cast<std::size_t>(header->length);
    if (auto why = conn.fill(header->size + length); why != Connection::Read::kOk) {
      return conn.finish(why);
    }
    char* payload = conn.in.data() + header->size;
    unmask(payload, length, header->mask);
    auto opcode = static_cast<Opcode>(header->opcode);
    if (control) {
      std::string body(payload, length);
      conn.consume(header->size + length);
      if (opcode == Opcode::kClose) return answer_close(conn, body);
      if (opcode == Opcode::kPing && !conn.send_frame(Opcode::kPong, body)) return;
      continue;  // an unsolicited pong needs no answer
    }
    if (opcode != Opcode::kContinuation) message_opcode = opcode;
    message.append(payload, length);
    conn.consume(header->size + length);
    in_message = !header->fin;
    if (in_message) continue;
    if (message_opcode == Opcode::kText && !valid_utf8(message)) {
      return conn.close(kCloseInvalidData);
    }
    if (!conn.send_frame(message_opcode, message)) return;
    message.clear();
    if (message.capacity() > kKeepCapacity) message.shrink_to_fit();
  }
}

}  // namespace backend::websocket
