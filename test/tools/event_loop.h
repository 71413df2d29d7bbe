// What the two bench tools (open_loop_load, pool_backend) share: a monotonic
// clock in seconds, a timerfd that wakes epoll at an exact instant (epoll's own
// timeout counts whole milliseconds, too coarse for a 1 ms scheduling goal),
// and small socket helpers. Header-only: each tool is one file plus this.
#pragma once

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace bench {

// Seconds on CLOCK_MONOTONIC, the clock the timerfd below counts on.
inline double now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

[[noreturn]] inline void die(const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

inline void set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) die("fcntl");
}

// An epoll set with one timerfd in it, registered under `timer_key`.
class EventLoop {
 public:
  explicit EventLoop(uint64_t timer_key) {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (epoll_fd_ < 0 || timer_fd_ < 0) die("epoll/timerfd");
    add(timer_fd_, EPOLLIN, timer_key);
  }
  ~EventLoop() {
    close(timer_fd_);
    close(epoll_fd_);
  }
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void add(int fd, uint32_t events, uint64_t key) { control(EPOLL_CTL_ADD, fd, events, key); }
  void modify(int fd, uint32_t events, uint64_t key) { control(EPOLL_CTL_MOD, fd, events, key); }
  void remove(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }
  // Takes connection `id` of `connections` (id -> pointer to something with
  // an `fd`) out of the set, closes it and forgets it.
  template <typename Connections>
  void close_connection(Connections& connections, uint64_t id) {
    auto it = connections.find(id);
    if (it == connections.end()) return;
    remove(it->second->fd);
    close(it->second->fd);
    connections.erase(it);
  }

  // Wakes the loop at monotonic time `at` (seconds); a negative `at` disarms it.
  void wake_at(double at) {
    itimerspec spec{};
    if (at >= 0) {
      if (at < 1e-9) at = 1e-9;  // an all-zero it_value would disarm the timer
      spec.it_value.tv_sec = static_cast<time_t>(at);
      spec.it_value.tv_nsec = static_cast<long>((at - std::floor(at)) * 1e9);
    }
    if (timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr) < 0) die("timerfd_settime");
  }
  // Empties the timerfd after it fired, so level-triggered epoll stops reporting it.
  void drain_timer() {
    uint64_t expirations = 0;
    ssize_t n = read(timer_fd_, &expirations, sizeof expirations);
    (void)n;
  }

  // Waits for events (no timeout: the timerfd is the only clock).
  int wait(epoll_event* events, int capacity) {
    int n = epoll_wait(epoll_fd_, events, capacity, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    return n < 0 ? 0 : n;
  }

 private:
  void control(int op, int fd, uint32_t events, uint64_t key) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = key;
    if (epoll_ctl(epoll_fd_, op, fd, &ev) < 0) die("epoll_ctl");
  }

  int epoll_fd_ = -1;
  int timer_fd_ = -1;
};

// Value of the nearest-rank percentile `q` (0..1) of sorted `v`, NaN when empty.
template <typename Vector>
double percentile(const Vector& sorted, double q) {
  if (sorted.empty()) return std::nan("");
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  if (rank < 1) rank = 1;
  return sorted[rank - 1];
}

}  // namespace bench
