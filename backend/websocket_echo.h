// A WebSocket (RFC 6455) echo endpoint for demos: every text or binary message a
// client sends comes straight back.
//
// cpp-httplib 0.11.4 cannot hand a connection over after a handler, so
// backend::Listener recognises the opening handshake from the request head
// (upgrade_key) and then calls serve_echo() with the raw socket. The pieces that
// only look at bytes are pure functions, so a reader can follow the protocol
// without the I/O.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace backend::websocket {

// Frame opcodes (RFC 6455 section 5.2).
enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes this server sends (RFC 6455 section 7.4.1).
constexpr std::uint16_t kCloseNormal = 1000;
constexpr std::uint16_t kCloseGoingAway = 1001;    // idle timeout or server shutdown
constexpr std::uint16_t kCloseProtocolError = 1002;
constexpr std::uint16_t kCloseInvalidData = 1007;  // text that is not UTF-8
constexpr std::uint16_t kCloseTooBig = 1009;

// The decoded fixed part of a frame: everything before the payload.
struct FrameHeader {
  bool fin = false;
  std::uint8_t rsv = 0;  // RSV1-3 as sent; non-zero is an error without extensions
  std::uint8_t opcode = 0;
  bool masked = false;
  std::uint64_t length = 0;  // payload bytes
  std::array<std::uint8_t, 4> mask{};
  std::size_t size = 0;  // bytes the header itself takes (2 to 14)
};

// If `head` (request line, header lines and the blank line) is a WebSocket
// opening handshake for exactly `path` (a query is allowed): a GET over HTTP/1.1
// with `Upgrade: websocket`, `Connection: upgrade` (token lists, any case),
// `Sec-WebSocket-Version: 13` and a Sec-WebSocket-Key of 16 base64 bytes,
// returns that key. Anything else returns nullopt, so the request can be
// answered by ordinary HTTP handling instead.
std::optional<std::string> upgrade_key(std::string_view head, std::string_view path);

// Sec-WebSocket-Accept for a client key: base64(SHA-1(key + RFC GUID)).
std::string accept_value(std::string_view key);

// The frame header at the start of `data`, or nullopt when `data` is too short
// to hold all of it yet. Never reads past `data`.
std::optional<FrameHeader> parse_frame_header(std::string_view data);

// The close code a frame from a client must be refused with, or 0 when it is
// acceptable. `in_message`: a fragmented message has begun and awaits continuations.
std::uint16_t frame_error(const FrameHeader& header, bool in_message);

// The header of an unmasked frame with FIN set, as a server sends it; the
// payload follows it on the wire.
std::string encode_frame_header(Opcode opcode, std::uint64_t length);

// XORs `size` payload bytes with the client's masking key, in place (applying
// it twice restores them).
void unmask(char* data, std::size_t size, const std::array<std::uint8_t, 4>& mask);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool valid_utf8(std::string_view text);

// What serve_echo() allows; the defaults suit a workshop demo.
struct EchoOptions {
  std::size_t max_message_bytes = 16 * 1024 * 1024;  // larger: close with 1009
  std::chrono::milliseconds idle_timeout{60000};     // no bytes from the client: close
  std::chrono::milliseconds write_timeout{5000};     // a client that stops reading is dropped
};

// Answers the handshake with 101 Switching Protocols on socket `fd`, then echoes
// messages until the client closes, breaks the protocol, stays idle, or
// `stopping()` turns true (checked a few times a second; the server is shutting
// down). `buffered`: bytes the client sent after the handshake that were already
// read from the socket. Returns when the WebSocket is closed; the caller still
// owns `fd` and closes it.
void serve_echo(int fd, std::string_view key, std::string buffered, const EchoOptions& options,
                const std::function<bool()>& stopping);

}  // namespace backend::websocket
