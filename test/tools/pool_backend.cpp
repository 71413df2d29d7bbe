// pool_backend: an HTTP/1.1 keep-alive server that behaves like an application
// server with a fixed pool of worker threads, for the balancing bench
// (scripts/bench/balance.sh). Each request takes one worker for a service time
// drawn from an exponential (or constant) distribution; when every worker is
// busy, requests wait first come first served. Connections are accepted
// without limit, so a backend's queue builds behind its workers the way a
// real one's does. The workers are simulated on one event loop (a busy count
// and a heap of finishing times), so a "sleeping" worker costs no CPU and no
// thread, and the bench measures the proxies, not this program.
//
// Faults: --pause-ms/--pause-every-ms freeze every worker (a stop-the-world GC
// pause: work in progress is held up by the pause), and --fail-status answers
// every request but /health at once with that status. GET /health is always
// answered at once, outside the pool, with the queue's length and busy workers
// (the bench waits on those to know a backend is idle again).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>

#include <CLI/CLI.hpp>
#include <deque>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "lb/http/http_message_parser.h"
#include "test/tools/event_loop.h"

namespace {

constexpr uint64_t kTimerKey = 0;
constexpr uint64_t kListenKey = 1;

struct Options {
  int port = 0;
  int workers = 8;
  double service_ms = 20;
  std::string service_dist = "exp";
  double pause_ms = 0;
  double pause_every_ms = 0;
  int fail_status = 0;
  uint64_t seed = 1;
  std::string name;  // sent back in X-Backend, so a client can count where its requests went
};

class DiscardBody : public lb::BodySink {
 public:
  bool on_body(const char*, size_t) override { return true; }
};

struct Connection {
  Connection() : parser(HTTP_REQUEST, 64 * 1024) { parser.set_body_sink(&sink); }
  int fd = -1;
  std::string in;
  size_t parsed = 0;     // bytes of `in` already fed to the parser
  std::string out;       // response bytes not yet written
  bool waiting = false;  // its request is queued or in service: the next one waits (no pipelining out of order)
  bool keep_alive = true;
  DiscardBody sink;
  lb::MessageParser parser;
};

class PoolBackend {
 public:
  explicit PoolBackend(const Options& o) : opt_(o), loop_(kTimerKey), rng_(o.seed), start_(bench::now_s()) {}

  void run() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) bench::die("socket");
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(opt_.port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) bench::die("bind");
    if (listen(listen_fd_, 4096) < 0) bench::die("listen");
    loop_.add(listen_fd_, EPOLLIN, kListenKey);
    std::printf("pool_backend %s listening on 127.0.0.1:%d, %d workers, %s %.1f ms\n", opt_.name.c_str(), opt_.port,
                opt_.workers, opt_.service_dist.c_str(), opt_.service_ms);
    std::fflush(stdout);

    std::vector<epoll_event> events(256);
    for (;;) {
      int n = loop_.wait(events.data(), static_cast<int>(events.size()));
      for (int i = 0; i < n; ++i) {
        uint64_t key = events[i].data.u64;
        if (key == kTimerKey) {
          loop_.drain_timer();
        } else if (key == kListenKey) {
          accept_all();
        } else {
          on_connection_event(key, events[i].events);
        }
      }
      finish_due_work();
    }
  }

 private:
  struct Finish {
    double at;
    uint64_t conn;
    bool operator>(const Finish& o) const { return at > o.at; }
  };

  void accept_all() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or out of descriptors: the backlog keeps the rest
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      uint64_t id = next_id_++;
      auto conn = std::make_unique<Connection>();
      conn->fd = fd;
      loop_.add(fd, EPOLLIN | EPOLLRDHUP, id);
      connections_.emplace(id, std::move(conn));
    }
  }

  void on_connection_event(uint64_t id, uint32_t events) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    Connection& c = *it->second;
    if (events & EPOLLOUT) flush(id, c);
    if (!connections_.count(id)) return;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      char buf[16384];
      ssize_t got = read(c.fd, buf, sizeof buf);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        close_connection(id);  // a queued request of it is skipped when its turn comes
        return;
      }
      if (got > 0) c.in.append(buf, static_cast<size_t>(got));
      parse_requests(id, c);
    }
  }

  // Feeds what arrived to the parser, one request at a time: a connection's next
  // request is looked at only once the previous one is answered.
  void parse_requests(uint64_t id, Connection& c) {
    while (!c.waiting && c.parsed < c.in.size()) {
      size_t n = c.parser.feed(c.in.data() + c.parsed, c.in.size() - c.parsed);
      c.parsed += n;
      auto phase = c.parser.phase();
      if (phase == lb::MessageParser::Phase::Error) {
        close_connection(id);
        return;
      }
      if (phase == lb::MessageParser::Phase::Done) {
        on_request(id, c);
        if (!connections_.count(id)) return;
        c.parser.reset();
      } else if (n == 0) {
        break;
      }
    }
    c.in.erase(0, c.parsed);
    c.parsed = 0;
  }

  void on_request(uint64_t id, Connection& c) {
    const lb::MessageHead& head = c.parser.head();
    c.keep_alive = head.keep_alive;
    std::string_view target = head.view(head.target);
    if (target == "/health") {
      reply(id, c, 200, "{\"status\":\"ok\",\"queued\":" + std::to_string(queue_.size()) +
                            ",\"busy\":" + std::to_string(busy_) + "}");
      return;
    }
    if (opt_.fail_status != 0) {
      reply(id, c, opt_.fail_status, "{\"error\":\"failing on purpose\"}");
      return;
    }
    c.waiting = true;
    queue_.push_back(id);
    start_work(bench::now_s());
  }

  // Gives free workers to the oldest waiting requests whose clients are still there.
  void start_work(double now) {
    while (busy_ < opt_.workers && !queue_.empty()) {
      uint64_t id = queue_.front();
      queue_.pop_front();
      if (!connections_.count(id)) continue;  // its client left while it waited
      ++busy_;
      finishing_.push(Finish{finish_time(now, service_time()), id});
    }
    loop_.wake_at(finishing_.empty() ? -1 : finishing_.top().at);
  }

  double service_time() {
    double mean = opt_.service_ms / 1000;
    if (opt_.service_dist == "const" || mean <= 0) return mean;
    return std::exponential_distribution<double>(1 / mean)(rng_);
  }

  // When work of `seconds` started at `start` ends, given that no worker runs
  // during a pause: pauses begin at start_ + k * every (k >= 1) and last pause_ms.
  double finish_time(double start, double seconds) const {
    if (opt_.pause_ms <= 0 || opt_.pause_every_ms <= 0) return start + seconds;
    const double every = opt_.pause_every_ms / 1000, pause = opt_.pause_ms / 1000;
    double t = start;
    for (int guard = 0; guard < 100000; ++guard) {
      double k = std::floor((t - start_) / every);
      double pause_begin = start_ + k * every, pause_end = pause_begin + pause;
      if (k >= 1 && t < pause_end) {
        t = pause_end;  // frozen until the pause ends
        continue;
      }
      double next_pause = start_ + (k + 1) * every;
      if (t + seconds <= next_pause) return t + seconds;
      seconds -= next_pause - t;
      t = next_pause;
    }
    return t + seconds;
  }

  void finish_due_work() {
    double now = bench::now_s();
    bool freed = false;
    while (!finishing_.empty() && finishing_.top().at <= now) {
      uint64_t id = finishing_.top().conn;
      finishing_.pop();
      --busy_;
      freed = true;
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;  // client gone: the work is thrown away
      Connection& c = *it->second;
      c.waiting = false;
      reply(id, c, 200, "{\"ok\":true}");
      if (connections_.count(id)) parse_requests(id, c);  // a request that came in meanwhile
    }
    if (freed) start_work(now);
  }

  void reply(uint64_t id, Connection& c, int status, const std::string& body) {
    const char* reason = status == 200 ? "OK" : status == 503 ? "Service Unavailable" : "Error";
    c.out += "HTTP/1.1 " + std::to_string(status) + " " + reason +
             "\r\nContent-Type: application/json\r\nX-Backend: " + opt_.name +
             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    if (!c.keep_alive) c.out += "Connection: close\r\n";
    c.out += "\r\n" + body;
    flush(id, c);
  }

  void flush(uint64_t id, Connection& c) {
    while (!c.out.empty()) {
      ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      if (n <= 0) {
        close_connection(id);
        return;
      }
      c.out.erase(0, static_cast<size_t>(n));
    }
    if (c.out.empty() && !c.keep_alive) {
      close_connection(id);
      return;
    }
    loop_.modify(c.fd, EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT)), id);
  }

  void close_connection(uint64_t id) { loop_.close_connection(connections_, id); }

  Options opt_;
  bench::EventLoop loop_;
  std::mt19937_64 rng_;
  double start_;  // pauses are counted from here
  int listen_fd_ = -1;
  uint64_t next_id_ = 2;  // 0 and 1 are the timer's and the listener's keys
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::deque<uint64_t> queue_;  // connections whose request waits for a worker, oldest first
  int busy_ = 0;                // workers in service (or frozen in a pause)
  std::priority_queue<Finish, std::vector<Finish>, std::greater<Finish>> finishing_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"An HTTP/1.1 backend with a pool of N workers and a FIFO queue (scripts/bench/balance.sh)"};
  app.add_option("--port", o.port, "TCP port on 127.0.0.1")->required();
  app.add_option("--workers", o.workers, "requests served at once; the rest wait in a FIFO queue")
      ->check(CLI::Range(1, 100000));
  app.add_option("--service-ms", o.service_ms, "mean service time of a request, ms")->check(CLI::NonNegativeNumber);
  app.add_option("--service-dist", o.service_dist, "exp (exponential) or const")
      ->check(CLI::IsMember({"exp", "const"}));
  app.add_option("--pause-ms", o.pause_ms, "length of each pause in which no worker finishes, ms");
  app.add_option("--pause-every-ms", o.pause_every_ms, "time from one pause's start to the next's, ms");
  app.add_option("--fail-status", o.fail_status, "answer every request but /health at once with this status");
  app.add_option("--seed", o.seed, "seed of the service times, for repeatable runs");
  app.add_option("--name", o.name, "value of the X-Backend response field (default: the port)");
  CLI11_PARSE(app, argc, argv);
  if (o.name.empty()) o.name = std::to_string(o.port);
  signal(SIGPIPE, SIG_IGN);
  PoolBackend(o).run();
}
