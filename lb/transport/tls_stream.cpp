#include "lb/transport/tls_stream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace lb {

namespace {

using Clock = std::chrono::steady_clock;

// TcpStream treats a non-positive timeout as the shortest wait, not "forever".
Millis at_least_1ms(Millis timeout) { return timeout.count() > 0 ? timeout : Millis(1); }

enum class Wait { Ready, Timeout, Failed };

Wait wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::ceil<Millis>(deadline - Clock::now()).count();
    struct pollfd pfd {
      fd, events, 0
    };
    int ready = ::poll(&pfd, 1, static_cast<int>(std::clamp<decltype(left)>(left, 0, INT_MAX)));
    if (ready > 0) return Wait::Ready;  // POLLERR/POLLHUP too: the next SSL call reports them
    if (ready == 0) return Wait::Timeout;
    if (errno != EINTR) return Wait::Failed;
  }
}

enum class Io { Done, Closed, Timeout, Failed };
struct Outcome {
  Io io;
  int sys_errno = 0;  // errno after a failed call (SSL_ERROR_SYSCALL, poll)
};

// Runs `op` (an SSL call returning 1 on success) until it succeeds, polling
// for whatever OpenSSL wants next (a read may need a write and vice versa).
// Waits end at `deadline`, or, with a positive `per_wait`, each wait may last
// that long (an inactivity timeout, as SO_SNDTIMEO gives TcpStream).
template <typename Op>
Outcome drive(SSL* ssl, int fd, Clock::time_point deadline, Millis per_wait, Op op) {
  for (;;) {
    ERR_clear_error();  // SSL_get_error() is only reliable on an empty queue
    int rc = op();
    const int saved_errno = errno;
    if (rc == 1) return {Io::Done};
    int code = SSL_get_error(ssl, rc);
    short events;
    if (code == SSL_ERROR_WANT_READ) {
      events = POLLIN;
    } else if (code == SSL_ERROR_WANT_WRITE) {
      events = POLLOUT;
    } else if (code == SSL_ERROR_ZERO_RETURN) {
      return {Io::Closed};  // close_notify, or a TCP close (SSL_OP_IGNORE_UNEXPECTED_EOF)
    } else {
      return {Io::Failed, saved_errno};
    }
    if (per_wait.count() > 0) deadline = Clock::now() + per_wait;
    Wait waited = wait_for(fd, events, deadline);
    if (waited == Wait::Timeout) return {Io::Timeout};
    if (waited == Wait::Failed) return {Io::Failed, errno};
  }
}

// A short reason for a failed handshake; empties the error queue.
std::string describe(SSL* ssl, const Outcome& outcome) {
  if (outcome.io == Io::Timeout) return "handshake timeout";
  unsigned long code = ERR_peek_error();
  ERR_clear_error();
  if (outcome.io == Io::Closed || (code == 0 && outcome.sys_errno == 0)) return "connection closed during handshake";
  if (code == 0) return std::strerror(outcome.sys_errno);
  const char* reason = ERR_reason_error_string(code);
  std::string text = reason ? reason : "TLS error " + std::to_string(code);
  long verify = SSL_get_verify_result(ssl);
  if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
      verify != X509_V_OK) {
    text += std::string(": ") + X509_verify_cert_error_string(verify);
  }
  return text;
}

// The first byte of a TLS connection is 22 (handshake record), and no TLS or
// SSLv2 record starts with a letter, so an upper-case token is an HTTP method
// ("GET ", "OPTIONS ", ...). Only bytes already arrived are looked at.
bool looks_like_http(const char* head, size_t size) {
  if (head[0] < 'A' || head[0] > 'Z') return false;
  for (size_t i = 1; i < size; ++i) {
    if (head[i] == ' ') return true;
    if ((head[i] < 'A' || head[i] > 'Z') && head[i] != '-' && head[i] != '_') return false;
  }
  return true;  // a method token so far; the rest has not arrived yet
}

bool set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

bool is_ip_literal(const std::string& host) {
  unsigned char address[sizeof(struct in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), address) == 1 || ::inet_pton(AF_INET6, host.c_str(), address) == 1;
}

// Shared by both sides: handshake on a fresh SSL for `fd`. On success the
// TlsStream owns ssl and fd; on failure the SSL is freed, the fd left open.
std::unique_ptr<Stream> handshake(SSL* ssl, int fd, Clock::time_point deadline, std::string& error) {
  Outcome done = drive(ssl, fd, deadline, Millis(0), [ssl] { return SSL_do_handshake(ssl); });
  if (done.io == Io::Done) return std::make_unique<TlsStream>(ssl, fd);
  error = describe(ssl, done);
  SSL_free(ssl);  // SSL_set_fd's BIO does not close the fd
  return nullptr;
}

}  // namespace

TlsStream::TlsStream(SSL* ssl, int fd) : ssl_(ssl), fd_(fd) {}

TlsStream::~TlsStream() {
  if (!broken_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // non-blocking: sends close_notify if the socket takes it, never waits
  }
  SSL_free(ssl_);
  ::close(fd_);
  ERR_clear_error();
}

ssize_t TlsStream::read(char* buf, size_t len, Millis timeout) {
  size_t got = 0;
  Outcome outcome = drive(ssl_, fd_, Clock::now() + at_least_1ms(timeout), Millis(0),
                          [&] { return SSL_read_ex(ssl_, buf, len, &got); });
  switch (outcome.io) {
    case Io::Done:
      return static_cast<ssize_t>(got);
    case Io::Closed:
      return kEof;
    case Io::Timeout:
      return kTimeout;  // a partial record stays buffered in OpenSSL for the next read
    case Io::Failed:
      break;
  }
  broken_ = true;
  ERR_clear_error();
  return kIoError;
}

// SSL_write_ex without SSL_MODE_ENABLE_PARTIAL_WRITE succeeds only once all
// of `data` is sent; a retry after WANT_WRITE repeats the same arguments, as
// OpenSSL requires.
bool TlsStream::write_buffer(const char* data, size_t len, Millis timeout) {
  size_t written = 0;
  Outcome outcome = drive(ssl_, fd_, Clock::now(), at_least_1ms(timeout),
                          [&] { return SSL_write_ex(ssl_, data, len, &written); });
  if (outcome.io == Io::Done) return true;
  broken_ = true;  // a record may be half sent: the stream cannot be resumed or closed cleanly
  ERR_clear_error();
  return false;
}

bool TlsStream::write_all(struct iovec* iov, int count, Millis timeout) {
  size_t used = 0;  // bytes waiting in out_
  for (int i = 0; i < count; ++i) {
    const char* data = static_cast<const char*>(iov[i].iov_base);
    size_t left = iov[i].iov_len;
    while (left > 0) {
      if (used == 0 && left >= out_.size()) {
        // Whole records straight from the caller's memory: no copy.
        size_t whole = left - left % out_.size();
        if (!write_buffer(data, whole, timeout)) return false;
        data += whole;
        left -= whole;
        continue;
      }
      size_t n = std::min(left, out_.size() - used);
      std::memcpy(out_.data() + used, data, n);
      used += n;
      data += n;
      left -= n;
      if (used == out_.size()) {
        if (!write_buffer(out_.data(), used, timeout)) return false;
        used = 0;
      }
    }
  }
  return used == 0 || write_buffer(out_.data(), used, timeout);
}

TlsAcceptResult accept_tls(int fd, const TlsServerContext& context, Millis timeout, std::unique_ptr<Stream>& out,
                           std::string& error) {
  const auto deadline = Clock::now() + at_least_1ms(timeout);
  // Peek (never consume) the first bytes to tell plain HTTP from a ClientHello.
  char head[8];
  ssize_t n;
  for (;;) {
    Wait waited = wait_for(fd, POLLIN, deadline);
    if (waited != Wait::Ready) {
      error = waited == Wait::Timeout ? "handshake timeout" : std::strerror(errno);
      return TlsAcceptResult::Failed;
    }
    n = ::recv(fd, head, sizeof head, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) break;
    if (n == 0) {
      error = "connection closed before handshake";
      return TlsAcceptResult::Failed;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      error = std::strerror(errno);
      return TlsAcceptResult::Failed;
    }
  }
  if (looks_like_http(head, static_cast<size_t>(n))) return TlsAcceptResult::PlainHttp;

  SSL* ssl = set_nonblocking(fd) ? SSL_new(context.native()) : nullptr;
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    ERR_clear_error();
    error = "cannot set up TLS on the socket";
    return TlsAcceptResult::Failed;
  }
  SSL_set_accept_state(ssl);
  out = handshake(ssl, fd, deadline, error);
  return out ? TlsAcceptResult::Ok : TlsAcceptResult::Failed;
}

std::unique_ptr<Stream> connect_tls(std::unique_ptr<Stream> tcp, const TlsClientContext& context,
                                    const std::string& host, Millis timeout, std::string& error) {
  const auto deadline = Clock::now() + at_least_1ms(timeout);
  auto* plain = dynamic_cast<TcpStream*>(tcp.get());
  if (plain == nullptr) {
    error = "TLS needs a plain TCP connection";
    return nullptr;
  }
  const int fd = plain->release();
  tcp.reset();
  // "[::1]" as written in a URL: the address inside the brackets.
  const std::string name = host.size() > 2 && host.front() == '[' && host.back() == ']'
                               ? host.substr(1, host.size() - 2) : host;
  SSL* ssl = set_nonblocking(fd) ? SSL_new(context.native()) : nullptr;
  bool ready = ssl != nullptr && SSL_set_fd(ssl, fd) == 1;
  const bool ip = is_ip_literal(name);
  // RFC 6066: SNI carries host names only, never addresses.
  if (ready && !ip) ready = SSL_set_tlsext_host_name(ssl, name.c_str()) == 1;
  if (ready && (SSL_CTX_get_verify_mode(context.native()) & SSL_VERIFY_PEER) != 0) {
    if (ip) {
      ready = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1;
    } else {
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ready = SSL_set1_host(ssl, name.c_str()) == 1;
    }
  }
  if (!ready) {
    SSL_free(ssl);
    ERR_clear_error();
    ::close(fd);
    error = "cannot set up TLS for " + host;
    return nullptr;
  }
  SSL_set_connect_state(ssl);
  auto stream = handshake(ssl, fd, deadline, error);
  if (!stream) ::close(fd);
  return stream;
}

bool TlsStream::has_buffered_input() const { return SSL_has_pending(ssl_) == 1; }

std::string TlsStream::alpn() const {
  const unsigned char* chosen = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &chosen, &length);
  return chosen ? std::string(reinterpret_cast<const char*>(chosen), length) : "";
}

std::string TlsStream::client_subject() const {
  // Set only when verification asked for it and the chain checked out (or the session resumed carries one).
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer == nullptr || SSL_get_verify_result(ssl_) != X509_V_OK) return "";
  BIO* text = BIO_new(BIO_s_mem());
  if (text == nullptr) return "";
  // RFC 2253 escapes control and non-ASCII bytes (\XX), so the text is safe in a header field.
  std::string subject;
  if (X509_NAME_print_ex(text, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    const long length = BIO_get_mem_data(text, &data);
    if (length > 0) subject.assign(data, static_cast<size_t>(length));
  }
  BIO_free(text);
  ERR_clear_error();
  // Belt and braces for the header: a byte the escaping let through would make it a field no backend should get.
  const bool clean = std::none_of(subject.begin(), subject.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
  return clean ? subject : "";
}

bool TlsStream::idle_and_open() {
  if (broken_) return false;
  char byte;
  // The socket is non-blocking: SSL_peek reads what has arrived and returns at once.
  int n = SSL_peek(ssl_, &byte, 1);
  if (n > 0) return false;  // application bytes nobody asked for
  int error = SSL_get_error(ssl_, n);
  ERR_clear_error();
  if (error == SSL_ERROR_WANT_READ) return true;  // nothing, or only records without data
  if (error != SSL_ERROR_ZERO_RETURN) broken_ = true;  // not a clean close_notify
  return false;
}

}  // namespace lb
