// open_loop_load: an open-loop HTTP/1.1 load generator for the balancing bench
// (scripts/bench/balance.sh). Requests are scheduled as a Poisson process at
// --rate for --duration, whatever the server does: a request never waits for a
// connection (that would make the load closed-loop, and hide a queue the way
// wrk does); it takes an idle keep-alive connection or opens a new one. Each
// latency counts from the request's scheduled time to its full response, so a
// late send is charged to the server's side of the books (no coordinated
// omission). One thread, one epoll set, a timerfd for the schedule.
//
// Prints one JSON object: sent, answers by status class, errors (connection
// failures and timeouts), 2xx answers that arrived within the sending window
// (goodput), 2xx and non-2xx latency percentiles (ms), the achieved rate, how late sends left (the generator's own error), and the
// answers per X-Backend field.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/http_text.h"
#include "lb/http/http_message_parser.h"
#include "test/tools/event_loop.h"

namespace {

constexpr uint64_t kTimerKey = 0;
constexpr double kTimeoutScanEvery = 0.05;  // s between scans for requests past --timeout

struct Options {
  std::string url;
  double rate = 100;
  double duration = 10;
  double timeout = 10;
  uint64_t seed = 1;
};

class DiscardBody : public lb::BodySink {
 public:
  bool on_body(const char*, size_t) override { return true; }
};

struct Connection {
  Connection() : parser(HTTP_RESPONSE, 64 * 1024) { parser.set_body_sink(&sink); }
  enum class State { Connecting, Sending, Waiting, Idle } state = State::Connecting;
  int fd = -1;
  double scheduled = 0;  // the request's scheduled send time
  size_t sent = 0;       // bytes of the request written
  bool reused = false;   // the request went on a connection that had served one before
  bool got_bytes = false;
  std::string in;
  DiscardBody sink;
  lb::MessageParser parser;
};

class Generator {
 public:
  explicit Generator(const Options& o) : opt_(o), loop_(kTimerKey), rng_(o.seed) { parse_url(); }

  nlohmann::json run() {
    std::exponential_distribution<double> gap(opt_.rate);
    const double start = bench::now_s(), end = start + opt_.duration;
    window_end_ = end;
    double next = start + gap(rng_);
    double next_scan = start + kTimeoutScanEvery;
    std::vector<epoll_event> events(512);
    while (next < end || in_flight_ > 0) {
      double now = bench::now_s();
      while (next < end && next <= now) {
        send_lag_.push_back((now - next) * 1000);
        dispatch(next, now);
        next += gap(rng_);
      }
      if (now >= next_scan) {
        expire(now);
        next_scan = now + kTimeoutScanEvery;
      }
      if (next >= end && in_flight_ == 0) break;
      double wake = in_flight_ > 0 ? next_scan : 1e300;
      if (next < end) wake = std::min(wake, next);
      loop_.wake_at(wake);
      int n = loop_.wait(events.data(), static_cast<int>(events.size()));
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == kTimerKey) {
          loop_.drain_timer();
        } else {
          on_event(events[i].data.u64, events[i].events);
        }
      }
    }
    return report(bench::now_s() - start);
  }

 private:
  void parse_url() {
    std::string rest = opt_.url;
    if (rest.rfind("http://", 0) != 0) throw CLI::ValidationError("--url", "only http:// URLs");
    rest = rest.substr(7);
    size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    path_ = slash == std::string::npos ? "/" : rest.substr(slash);
    size_t colon = authority.rfind(':');
    std::string host = authority.substr(0, colon);
    std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
    addrinfo hints{}, *found = nullptr;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || !found)
      throw CLI::ValidationError("--url", "cannot resolve " + authority);
    std::memcpy(&address_, found->ai_addr, sizeof address_);
    freeaddrinfo(found);
    request_ = "GET " + path_ + " HTTP/1.1\r\nHost: " + authority + "\r\nUser-Agent: open_loop_load\r\n\r\n";
  }

  // Sends the request scheduled at `scheduled` on an idle connection, or a new one.
  void dispatch(double scheduled, double now) {
    ++sent_;
    ++in_flight_;
    while (!idle_.empty()) {
      uint64_t id = idle_.back();
      idle_.pop_back();
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;  // the server closed it while idle
      Connection& c = *it->second;
      start_request(id, c, scheduled, true);
      return;
    }
    open_and_send(scheduled, now);
  }

  void open_and_send(double scheduled, double now) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      fail(now - scheduled);
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address_), sizeof address_) < 0 && errno != EINPROGRESS) {
      close(fd);
      fail(now - scheduled);
      return;
    }
    ++opened_;
    uint64_t id = next_id_++;
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    conn->scheduled = scheduled;
    loop_.add(fd, EPOLLOUT | EPOLLIN | EPOLLRDHUP, id);
    connections_.emplace(id, std::move(conn));
  }

  void start_request(uint64_t id, Connection& c, double scheduled, bool reused) {
    c.scheduled = scheduled;
    c.reused = reused;
    c.got_bytes = false;
    c.sent = 0;
    c.in.clear();
    c.parser.reset();
    c.state = Connection::State::Sending;
    write_request(id, c);
  }

  void write_request(uint64_t id, Connection& c) {
    while (c.sent < request_.size()) {
      ssize_t n = send(c.fd, request_.data() + c.sent, request_.size() - c.sent, MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      if (n <= 0) {
        connection_failed(id, c);
        return;
      }
      c.sent += static_cast<size_t>(n);
    }
    bool done = c.sent == request_.size();
    if (done) c.state = Connection::State::Waiting;
    loop_.modify(c.fd, EPOLLIN | EPOLLRDHUP | (done ? 0u : static_cast<uint32_t>(EPOLLOUT)), id);
  }

  void on_event(uint64_t id, uint32_t events) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    Connection& c = *it->second;
    if (c.state == Connection::State::Connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        connection_failed(id, c);
        return;
      }
      start_request(id, c, c.scheduled, false);
      return;
    }
    if (c.state == Connection::State::Sending && (events & EPOLLOUT)) write_request(id, c);
    if (!connections_.count(id)) return;
    if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
    if (c.state == Connection::State::Idle) {  // the server closed a connection we were not using
      close_connection(id);
      return;
    }
    char buf[16384];
    ssize_t got = read(c.fd, buf, sizeof buf);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (got <= 0) {
      c.parser.feed_eof();  // ends a close-delimited body
      if (c.parser.phase() == lb::MessageParser::Phase::Done) {
        answered(c);
        close_connection(id);
      } else {
        connection_failed(id, c);
      }
      return;
    }
    c.got_bytes = true;
    c.in.append(buf, static_cast<size_t>(got));
    size_t used = 0;
    while (used < c.in.size() && c.parser.phase() != lb::MessageParser::Phase::Done) {
      size_t n = c.parser.feed(c.in.data() + used, c.in.size() - used);
      used += n;
      if (c.parser.phase() == lb::MessageParser::Phase::Error) {
        connection_failed(id, c);
        return;
      }
      if (n == 0) break;
    }
    c.in.erase(0, used);
    if (c.parser.phase() != lb::MessageParser::Phase::Done) return;
    answered(c);
    if (c.parser.head().keep_alive && c.in.empty()) {
      c.state = Connection::State::Idle;
      idle_.push_back(id);
    } else {
      close_connection(id);
    }
  }

  void answered(Connection& c) {
    --in_flight_;
    const lb::MessageHead& head = c.parser.head();
    double now = bench::now_s(), ms = (now - c.scheduled) * 1000;
    int status_class = head.status / 100;
    if (status_class == 2 && now <= window_end_) ++ok_in_window_;
    ++by_class_[status_class >= 1 && status_class <= 5 ? status_class : 0];
    (status_class == 2 ? ok_ms_ : other_ms_).push_back(ms);
    for (size_t i = 0; i < head.fields.size(); ++i) {
      if (common::iequals(head.name(i), "X-Backend")) ++by_backend_[std::string(head.value(i))];
    }
  }

  // The connection broke before a full response. A reused keep-alive connection
  // that the server closed just as we sent (no byte back) is retried once on a
  // new connection, as browsers do; anything else is the request's error.
  void connection_failed(uint64_t id, Connection& c) {
    double scheduled = c.scheduled;
    bool stale = c.reused && !c.got_bytes && c.state != Connection::State::Connecting;
    close_connection(id);
    double now = bench::now_s();
    if (stale) {
      ++stale_retries_;
      open_and_send(scheduled, now);
    } else {
      fail(now - scheduled);
    }
  }

  void fail(double) {
    --in_flight_;
    ++errors_;
  }

  void expire(double now) {
    std::vector<uint64_t> late;
    for (auto& [id, c] : connections_) {
      if (c->state != Connection::State::Idle && now - c->scheduled > opt_.timeout) late.push_back(id);
    }
    for (uint64_t id : late) {
      close_connection(id);
      --in_flight_;
      ++timeouts_;
    }
  }

  void close_connection(uint64_t id) { loop_.close_connection(connections_, id); }

  static nlohmann::json summary(std::vector<double>& ms) {
    std::sort(ms.begin(), ms.end());
    double sum = 0;
    for (double v : ms) sum += v;
    auto num = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(std::round(v * 1000) / 1000); };
    return {{"count", ms.size()},
            {"mean", num(ms.empty() ? std::nan("") : sum / static_cast<double>(ms.size()))},
            {"p50", num(bench::percentile(ms, 0.5))},
            {"p90", num(bench::percentile(ms, 0.9))},
            {"p99", num(bench::percentile(ms, 0.99))},
            {"p99.9", num(bench::percentile(ms, 0.999))},
            {"max", num(ms.empty() ? std::nan("") : ms.back())}};
  }

  nlohmann::json report(double elapsed) {
    nlohmann::json answered = nlohmann::json::object();
    for (auto& [k, n] : by_class_) answered[k == 0 ? "other" : std::to_string(k) + "xx"] = n;
    return {{"url", opt_.url},
            {"rate", opt_.rate},
            {"duration", opt_.duration},
            {"sent", sent_},
            {"answered", answered},
            {"errors", errors_ + timeouts_},
            {"timeouts", timeouts_},
            {"stale_retries", stale_retries_},
            {"connections_opened", opened_},
            {"ok_in_window", ok_in_window_},
            {"achieved_rate", std::round(static_cast<double>(sent_) / opt_.duration * 10) / 10},
            {"elapsed", std::round(elapsed * 1000) / 1000},
            {"ok_ms", summary(ok_ms_)},
            {"non2xx_ms", summary(other_ms_)},
            {"send_lag_ms", summary(send_lag_)},
            {"by_backend", by_backend_}};
  }

  Options opt_;
  bench::EventLoop loop_;
  std::mt19937_64 rng_;
  sockaddr_in address_{};
  std::string path_, request_;
  uint64_t next_id_ = 1;  // 0 is the timer's key
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::vector<uint64_t> idle_;  // keep-alive connections free for the next request, last used on top
  long in_flight_ = 0;          // requests sent (or being sent) and not yet answered, failed or expired
  long sent_ = 0, errors_ = 0, timeouts_ = 0, stale_retries_ = 0, opened_ = 0;
  long ok_in_window_ = 0;  // 2xx answers that arrived while requests were still being sent: the goodput under load
  double window_end_ = 0;
  std::map<int, long> by_class_;  // answers by status class (2 = 2xx), 0 for a status out of range
  std::map<std::string, long> by_backend_;
  std::vector<double> ok_ms_, other_ms_, send_lag_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Open-loop HTTP/1.1 load: Poisson arrivals at a fixed rate, latency from the scheduled time"};
  app.add_option("--url", o.url, "http://HOST:PORT/PATH")->required();
  app.add_option("--rate", o.rate, "requests per second (mean of the Poisson process)")->check(CLI::PositiveNumber);
  app.add_option("--duration", o.duration, "seconds of sending (answers are awaited up to --timeout after)")
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout", o.timeout, "seconds from a request's scheduled time until it counts as an error")
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", o.seed, "seed of the arrival times, for repeatable runs");
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  try {
    std::printf("%s\n", Generator(o).run().dump().c_str());
  } catch (const CLI::Error& e) {
    std::fprintf(stderr, "open_loop_load: %s\n", e.what());
    return 2;
  }
}
