#include "lb/transport/dns_lookup.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace lb {

namespace {

std::string lowercase_name(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

bool is_ip_address(const std::string& text) {
  unsigned char buffer[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 || inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// c-ares' words are for programmers; these are for a log line.
std::string describe_status(int status) {
  switch (status) {
    case ARES_ETIMEOUT: return "timeout";
    case ARES_ENOTFOUND: return "no such name";
    case ARES_ENODATA: return "no records";
    case ARES_ESERVFAIL: return "server failure";
    case ARES_EREFUSED: return "refused";
    case ARES_ECONNREFUSED: return "connection refused";
    case ARES_ECANCELLED: return "timeout";
    default: return ares_strerror(status);
  }
}

// One c-ares channel for one lookup: made, driven with poll() until its
// queries are done or the deadline passes, destroyed.
class Channel {
 public:
  Channel(const std::vector<DnsServer>& servers, Millis timeout, std::string& error) {
    static std::once_flag library;
    std::call_once(library, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    ares_options options{};
    // Three tries within the caller's timeout: a lost UDP packet is retried.
    options.timeout = static_cast<int>(std::max<long>(50, timeout.count() / 3));
    options.tries = 3;
    if (ares_init_options(&channel_, &options, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS) {
      channel_ = nullptr;
      error = "cannot start a DNS client";
      return;
    }
    if (servers.empty()) return;
    std::string csv;
    for (const auto& server : servers) csv += (csv.empty() ? "" : ",") + server.text();
    if (ares_set_servers_ports_csv(channel_, csv.c_str()) != ARES_SUCCESS) error = "bad resolver list " + csv;
  }
  ~Channel() {
    if (channel_) ares_destroy(channel_);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  ares_channel get() const { return channel_; }

  // Processes answers until `done` or the deadline; then cancels what is left
  // (its callback runs with ARES_ECANCELLED).
  void run(const bool& done, std::chrono::steady_clock::time_point deadline) {
    while (!done) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        ares_cancel(channel_);
        return;
      }
      ares_socket_t sockets[ARES_GETSOCK_MAXNUM];
      const int bits = ares_getsock(channel_, sockets, ARES_GETSOCK_MAXNUM);
      std::vector<pollfd> polled;
      for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
        short events = 0;
        if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
        if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
        if (events) polled.push_back({sockets[i], events, 0});
      }
      timeval limit{}, wait{};
      const long left = std::chrono::duration_cast<Millis>(deadline - now).count() + 1;
      limit.tv_sec = left / 1000;
      limit.tv_usec = (left % 1000) * 1000;
      const timeval* next = ares_timeout(channel_, &limit, &wait);
      const int wait_ms = static_cast<int>(next->tv_sec * 1000 + next->tv_usec / 1000);
      const int ready = poll(polled.data(), polled.size(), std::max(wait_ms, 1));
      if (ready <= 0) {
        ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // lets c-ares retry or time out
        continue;
      }
      for (const pollfd& entry : polled) {
        const bool readable = entry.revents & (POLLIN | POLLERR | POLLHUP);
        const bool writable = entry.revents & POLLOUT;
        if (readable || writable) {
          ares_process_fd(channel_, readable ? entry.fd : ARES_SOCKET_BAD, writable ? entry.fd : ARES_SOCKET_BAD);
        }
      }
    }
  }

 private:
  ares_channel channel_ = nullptr;
};

struct SrvQuery {
  bool done = false;
  int status = ARES_ETIMEOUT;
  SrvAnswer* answer;
};

void on_srv_reply(void* argument, int status, int /*timeouts*/, unsigned char* reply, int length) {
  auto* query = static_cast<SrvQuery*>(argument);
  query->done = true;
  query->status = status;
  if (status != ARES_SUCCESS) return;
  ares_srv_reply* records = nullptr;
  query->status = ares_parse_srv_reply(reply, length, &records);
  if (query->status != ARES_SUCCESS) return;
  for (const ares_srv_reply* record = records; record; record = record->next) {
    query->answer->records.push_back({record->priority, record->weight, record->port, lowercase_name(record->host)});
  }
  ares_free_data(records);
  query->answer->additional = additional_addresses(reply, length);
}

struct AddressQuery {
  bool done = false;
  int status = ARES_ETIMEOUT;
  ResolvedAddresses addresses;
};

void on_addresses(void* argument, int status, int /*timeouts*/, ares_addrinfo* result) {
  auto* query = static_cast<AddressQuery*>(argument);
  query->done = true;
  query->status = status;
  if (!result) return;
  for (const ares_addrinfo_node* node = result->nodes; node; node = node->ai_next) {
    SocketAddress address;
    const auto length = std::min<size_t>(node->ai_addrlen, sizeof address.storage);
    std::memcpy(&address.storage, node->ai_addr, length);
    address.length = static_cast<socklen_t>(length);
    query->addresses.push_back(address);
  }
  ares_freeaddrinfo(result);
}

}  // namespace

std::string DnsServer::text() const {
  const bool ipv6 = address.find(':') != std::string::npos;
  return (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

DnsServer parse_dns_server(const std::string& text) {
  DnsServer server;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) throw std::invalid_argument("'" + text + "' has an unclosed IPv6 bracket");
    server.address = text.substr(1, close - 1);
    const std::string rest = text.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || rest.size() == 1)) {
      throw std::invalid_argument("'" + text + "': expected [ADDRESS]:PORT");
    }
    if (!rest.empty()) port = rest.substr(1);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    server.address = text.substr(0, text.find(':'));
    port = text.substr(text.find(':') + 1);
    if (port.empty()) throw std::invalid_argument("'" + text + "' has an empty port");
  } else {
    server.address = text;  // an IPv4 address, or IPv6 without a port
  }
  if (!is_ip_address(server.address)) {
    throw std::invalid_argument("'" + text + "': expected an IP address with an optional port, like 127.0.0.1:53");
  }
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) < 1 ||
        std::stoi(port) > 65535) {
      throw std::invalid_argument("'" + text + "': port must be 1-65535");
    }
    server.port = static_cast<uint16_t>(std::stoi(port));
  }
  return server;
}

bool lookup_srv(const std::string& name, const std::vector<DnsServer>& servers, Millis timeout, SrvAnswer& answer,
                std::string& error) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  SrvQuery query{false, ARES_ETIMEOUT, &answer};  // before the channel: it outlives every callback
  Channel channel(servers, timeout, error);
  if (!error.empty()) return false;
  ares_query(channel.get(), name.c_str(), ns_c_in, ns_t_srv, on_srv_reply, &query);
  channel.run(query.done, deadline);
  if (query.status == ARES_SUCCESS) return true;
  error = describe_status(query.status);
  return false;
}

ResolvedAddresses lookup_addresses(const std::string& host, uint16_t port, const std::vector<DnsServer>& servers,
                                   Millis timeout, std::string& error) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  AddressQuery query;  // before the channel: it outlives every callback
  Channel channel(servers, timeout, error);
  if (!error.empty()) return {};
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = ARES_AI_NUMERICSERV;
  const std::string service = std::to_string(port);
  ares_getaddrinfo(channel.get(), host.c_str(), service.c_str(), &hints, on_addresses, &query);
  channel.run(query.done, deadline);
  if (query.status == ARES_SUCCESS && !query.addresses.empty()) return std::move(query.addresses);
  error = "cannot resolve host " + host + ": " + describe_status(query.status == ARES_SUCCESS ? ARES_ENODATA : query.status);
  return {};
}

bool name_has_no_address(const std::string& error) {
  auto ends_with = [&](const std::string& tail) {
    return error.size() >= tail.size() && error.compare(error.size() - tail.size(), tail.size(), tail) == 0;
  };
  return ends_with(": no such name") || ends_with(": no records");
}

std::map<std::string, std::vector<std::string>> additional_addresses(const unsigned char* message, int length) {
  std::map<std::string, std::vector<std::string>> found;
  if (length < 12) return found;
  auto u16 = [message](int at) { return (message[at] << 8) | message[at + 1]; };
  const int questions = u16(4), answers = u16(6), authorities = u16(8), additionals = u16(10);
  int at = 12;
  auto read_name = [&](std::string& name) {
    char* expanded = nullptr;
    long used = 0;
    if (ares_expand_name(message + at, message, length, &expanded, &used) != ARES_SUCCESS) return false;
    name = lowercase_name(expanded);
    ares_free_string(expanded);
    at += static_cast<int>(used);
    return true;
  };
  std::string name;
  for (int i = 0; i < questions; ++i) {
    if (!read_name(name) || at + 4 > length) return found;
    at += 4;  // type, class
  }
  const int records = answers + authorities + additionals;
  for (int i = 0; i < records; ++i) {
    if (!read_name(name) || at + 10 > length) return found;
    const int type = u16(at), data_length = u16(at + 8);
    at += 10;  // type, class, TTL, length
    if (at + data_length > length) return found;
    char text[INET6_ADDRSTRLEN] = {};
    const bool additional = i >= answers + authorities;
    if (additional && type == ns_t_a && data_length == 4) inet_ntop(AF_INET, message + at, text, sizeof text);
    if (additional && type == ns_t_aaaa && data_length == 16) inet_ntop(AF_INET6, message + at, text, sizeof text);
    if (text[0] != '\0') found[name].push_back(text);
    at += data_length;
  }
  return found;
}

}  // namespace lb
