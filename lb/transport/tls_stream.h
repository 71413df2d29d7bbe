// TLS connections for the proxy path: OpenSSL directly on the socket.
//
// The socket is switched to non-blocking mode and every wait is a poll() with
// the caller's timeout, around SSL_read/SSL_write/SSL_do_handshake. (Blocking
// sockets with SO_RCVTIMEO cannot bound a TLS read: one SSL_read may need
// several recv() calls, or a write for a TLS 1.3 key update.) SSL_read is
// always tried before polling, so bytes OpenSSL already buffered (SSL_pending,
// read-ahead) are never left waiting for the socket.
//
// OpenSSL writes to the socket with write(): a vanished peer raises SIGPIPE,
// which the process must ignore (main.cpp does).
//
// One TlsStream is used by one thread at a time, like every Stream.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <memory>
#include <string>

#include "lb/transport/stream.h"
#include "lb/transport/tls_context.h"

namespace lb {

class TlsStream : public Stream {
 public:
  // Takes ownership of `ssl` (handshake completed) and of `fd`, the
  // non-blocking socket under it.
  TlsStream(SSL* ssl, int fd);
  // Sends close_notify when the connection is still sound (one non-blocking
  // attempt: never waits), then frees the SSL and closes the socket.
  ~TlsStream() override;
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Returns decrypted bytes (at least one), kEof on close_notify or a TCP
  // close, kTimeout when nothing arrived within `timeout` (the stream stays
  // usable), kIoError otherwise.
  ssize_t read(char* buf, size_t len, Millis timeout) override;
  // Small iovecs are copied into one buffer and sent as one TLS record (up to
  // 16 KB); large ones are encrypted in place. `timeout` bounds each wait for
  // the socket, as SO_SNDTIMEO does for TcpStream. `iov` is left unchanged.
  bool write_all(struct iovec* iov, int count, Millis timeout) override;
  using Stream::write_all;  // the (data, len) convenience overload
  int fd() const override { return fd_; }
  bool has_buffered_input() const override;
  // TLS records may arrive on an idle connection and carry no data (a TLS 1.3
  // session ticket, a key update): those are processed, and only application
  // bytes, a close or an error count.
  bool idle_and_open() override;

  // For logging (SSL_get_version, SSL_get0_alpn_selected) and tests.
  SSL* native() const { return ssl_; }
  // The protocol ALPN chose: "h2", "http/1.1", or "" without ALPN.
  std::string alpn() const;
  // The subject of the certificate the peer presented, if it was verified
  // (--tls-client-ca), as RFC 2253 text like nginx's $ssl_client_s_dn:
  // "CN=client,O=Example". "" without one, or with one that did not verify.
  std::string client_subject() const;

 private:
  bool write_buffer(const char* data, size_t len, Millis timeout);

  SSL* ssl_;
  int fd_;
  bool broken_ = false;  // a fatal TLS/socket error: OpenSSL forbids SSL_shutdown after one
  std::array<char, 16 * 1024> out_;  // one maximal TLS record of coalesced plaintext
};

enum class TlsAcceptResult { Ok, PlainHttp, Failed };

// Server handshake on an accepted (blocking) socket, all within `timeout`.
// - PlainHttp: the first bytes are an HTTP method token ("GET "), not a TLS
//   record; nothing was consumed and the socket is untouched, so the caller
//   can answer with a plain-text 400. The caller still owns the fd.
// - Ok: `out` owns the fd (now non-blocking).
// - Failed: `error` says why ("unsupported protocol", "handshake timeout",
//   "connection closed during handshake", ...); the caller closes the fd.
TlsAcceptResult accept_tls(int fd, const TlsServerContext& context, Millis timeout, std::unique_ptr<Stream>& out,
                           std::string& error);

// Client handshake over `tcp` (a TcpStream, taken over either way) within
// `timeout`. Sends SNI for a host name (never for an IP literal) and, when the
// context verifies, checks the certificate against `host` (DNS name or IP).
// Returns nullptr with `error` set on failure (the socket is then closed),
// e.g. "certificate verify failed: self-signed certificate".
std::unique_ptr<Stream> connect_tls(std::unique_ptr<Stream> tcp, const TlsClientContext& context,
                                    const std::string& host, Millis timeout, std::string& error);

}  // namespace lb
