// Helpers for the TLS unit tests: throw-away certificates made with the
// `openssl` command, and one-connection servers on 127.0.0.1 ephemeral ports.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "lb/transport/stream.h"
#include "lb/transport/tls_context.h"
#include "lb/transport/tls_stream.h"
#include "test/support/test_certificates.h"

namespace tls_fixture {

using namespace std::chrono_literals;

using Certificates = test_support::TestCertificates;

inline const Certificates& certificates() { return test_support::test_certificates(); }

inline lb::TlsCertificate pair(const char* name) {
  const auto& c = certificates();
  return {c.path((std::string(name) + ".crt").c_str()), c.path((std::string(name) + ".key").c_str())};
}

// A listening socket on 127.0.0.1 with a port chosen by the OS.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(fd_); }
  uint16_t port() const { return port_; }
  // The next connection's fd, or -1 when none comes within 5 s.
  int accept() const {
    struct pollfd pfd {
      fd_, POLLIN, 0
    };
    if (::poll(&pfd, 1, 5000) != 1) return -1;
    return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  }

 private:
  int fd_;
  uint16_t port_;
};

// A plain connected socket to 127.0.0.1:port (the caller closes it).
inline int connect_raw(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  struct timeval five_seconds {
    5, 0
  };  // a raw OpenSSL client in a test must not hang either
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
  return fd;
}

// Serves one TLS connection on a thread: accept_tls, then `serve`. Catch2 v2
// assertions are not thread-safe, so `serve` records what it saw in variables
// the test checks after join(). Every wait is bounded, so join() returns.
class OneShotServer {
 public:
  OneShotServer(const lb::TlsServerContext& context, std::function<void(lb::Stream&)> serve)
      : thread_([this, &context, serve] {
          int fd = listener_.accept();
          if (fd < 0) {
            error = "no connection";
            return;
          }
          std::unique_ptr<lb::Stream> stream;
          result = lb::accept_tls(fd, context, 5s, stream, error);
          if (result == lb::TlsAcceptResult::Ok) {
            serve(*stream);
          } else {
            ::close(fd);
          }
        }) {}
  ~OneShotServer() { join(); }
  uint16_t port() const { return listener_.port(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

  lb::TlsAcceptResult result = lb::TlsAcceptResult::Failed;  // valid after join()
  std::string error;

 private:
  Listener listener_;  // declared before thread_: listening before the thread starts
  std::thread thread_;
};

// A TLS client connection to 127.0.0.1:port presenting `host`; nullptr and
// `error` on failure.
inline std::unique_ptr<lb::Stream> connect_client(uint16_t port, const lb::TlsClientContext& context,
                                                  const std::string& host, std::string& error) {
  bool timed_out = false;
  auto tcp = lb::connect_tcp("127.0.0.1", port, 2s, error, timed_out);
  if (!tcp) return nullptr;
  return lb::connect_tls(std::move(tcp), context, host, 5s, error);
}

// Reads exactly `size` bytes (fewer on EOF, error or timeout).
inline std::string read_exactly(lb::Stream& stream, size_t size, lb::Millis timeout = 5s) {
  std::string data(size, '\0');
  size_t got = 0;
  while (got < size) {
    ssize_t n = stream.read(&data[got], size - got, timeout);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  data.resize(got);
  return data;
}

inline std::string subject_cn(lb::Stream& stream) {
  auto& tls = dynamic_cast<lb::TlsStream&>(stream);
  X509* cert = SSL_get1_peer_certificate(tls.native());
  if (cert == nullptr) return "";
  char cn[256] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_free(cert);
  return cn;
}

}  // namespace tls_fixture
