#include "lb/transport/stream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lb {

bool Stream::write_all(const char* data, size_t len, Millis timeout) {
  struct iovec iov {
    const_cast<char*>(data), len
  };
  return write_all(&iov, 1, timeout);
}

TcpStream::TcpStream(int fd) : fd_(fd) {}

TcpStream::~TcpStream() {
  if (fd_ >= 0) ::close(fd_);
}

int TcpStream::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void TcpStream::set_timeout(int option, Millis timeout, Millis& current) {
  if (timeout == current) return;
  if (timeout.count() <= 0) timeout = Millis(1);
  struct timeval tv;
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(fd_, SOL_SOCKET, option, &tv, sizeof tv);
  current = timeout;
}

ssize_t TcpStream::read(char* buf, size_t len, Millis timeout) {
  set_timeout(SO_RCVTIMEO, timeout, read_timeout_);
  for (;;) {
    ssize_t n = ::recv(fd_, buf, len, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return kTimeout;
    return kIoError;
  }
}

bool TcpStream::write_all(struct iovec* iov, int count, Millis timeout) {
  set_timeout(SO_SNDTIMEO, timeout, write_timeout_);
  while (count > 0) {
    struct msghdr msg {};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    // sendmsg with MSG_NOSIGNAL: a vanished peer must not raise SIGPIPE.
    ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    size_t written = static_cast<size_t>(n);
    while (count > 0 && written >= iov->iov_len) {
      written -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + written;
      iov->iov_len -= written;
    }
  }
  return true;
}

bool TcpStream::idle_and_open() {
  char byte;
  ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

ResolvedAddresses resolve_host(const std::string& host, uint16_t port, std::string& error) {
  struct addrinfo hints {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  struct addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  ResolvedAddresses addresses;
  if (rc != 0) {
    error = std::string("cannot resolve host: ") + gai_strerror(rc);
    return addresses;
  }
  for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
    SocketAddress address;
    std::memcpy(&address.storage, ai->ai_addr, ai->ai_addrlen);
    address.length = ai->ai_addrlen;
    addresses.push_back(address);
  }
  ::freeaddrinfo(found);
  return addresses;
}

std::string address_text(const SocketAddress& address) {
  char text[INET6_ADDRSTRLEN] = "?";
  const auto* sa = reinterpret_cast<const struct sockaddr*>(&address.storage);
  if (sa->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const struct sockaddr_in*>(sa)->sin_addr, text, sizeof text);
  } else if (sa->sa_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const struct sockaddr_in6*>(sa)->sin6_addr, text, sizeof text);
  }
  return text;
}

bool operator==(const SocketAddress& a, const SocketAddress& b) {
  return a.length == b.length && std::memcmp(&a.storage, &b.storage, a.length) == 0;
}

std::unique_ptr<Stream> connect_tcp(const std::string& host, uint16_t port, Millis timeout,
                                    std::string& error, bool& timed_out) {
  timed_out = false;
  ResolvedAddresses addresses = resolve_host(host, port, error);
  if (addresses.empty()) return nullptr;
  return connect_tcp(addresses, timeout, error, timed_out);
}

std::unique_ptr<Stream> connect_tcp(const ResolvedAddresses& addresses, Millis timeout, std::string& error,
                                    bool& timed_out) {
  timed_out = false;
  error = "no address";
  for (const SocketAddress& address : addresses) {
    const auto* sa = reinterpret_cast<const struct sockaddr*>(&address.storage);
    int fd = ::socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Non-blocking connect + poll gives the connect a timeout; then back to blocking.
    int rc = ::connect(fd, sa, address.length);
    if (rc < 0 && errno == EINPROGRESS) {
      struct pollfd pfd {
        fd, POLLOUT, 0
      };
      int ready;
      do {
        ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
      } while (ready < 0 && errno == EINTR);
      if (ready == 0) {
        ::close(fd);
        error = "connect timeout";
        timed_out = true;
        continue;
      }
      int so_error = 0;
      socklen_t so_len = sizeof so_error;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len);
      rc = so_error == 0 ? 0 : -1;
      errno = so_error;
    }
    if (rc < 0) {
      error = errno == ECONNREFUSED ? "connection refused" : std::strerror(errno);
      ::close(fd);
      continue;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    timed_out = false;
    return std::make_unique<TcpStream>(fd);
  }
  return nullptr;
}

bool peeks_prefix(int fd, std::string_view prefix, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string seen(prefix.size(), '\0');
  for (;;) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    struct pollfd pfd {
      fd, POLLIN, 0
    };
    if (::poll(&pfd, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = ::recv(fd, seen.data(), seen.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) return false;
    if (seen.compare(0, static_cast<size_t>(n), prefix.substr(0, static_cast<size_t>(n))) != 0) return false;
    if (static_cast<size_t>(n) == prefix.size()) return true;
    ::poll(nullptr, 0, 1);  // a prefix of it so far: the rest is on its way
  }
}

std::string peer_address(int fd) {
  struct sockaddr_storage addr {};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<struct sockaddr*>(&addr), &len) != 0) return "unknown";
  char text[INET6_ADDRSTRLEN] = "unknown";
  if (addr.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<struct sockaddr_in*>(&addr)->sin_addr, text, sizeof text);
  } else if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<struct sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      ::inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], text, sizeof text);
    } else {
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    }
  }
  return text;
}

}  // namespace lb
