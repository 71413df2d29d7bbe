// SIGINT and SIGTERM (and SIGHUP and SIGUSR2, for a program that reloads and
// upgrades) turned into calls on an ordinary thread, for both programs.
//
// The signals are blocked in every thread from construction on and collected
// with sigwait(), so the callbacks may lock mutexes, log and stop servers,
// which a signal handler may not. A signal that comes before start() stays
// pending and is taken as soon as the waiting thread runs: none is lost
// during start-up.
#pragma once

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace common {

class ControlSignals {
 public:
  // Blocks SIGINT and SIGTERM, and SIGHUP and SIGUSR2 when `with_reload`.
  // Construct before starting any other thread, so every thread inherits the
  // blocked mask.
  explicit ControlSignals(bool with_reload = false);
  ~ControlSignals();  // calls join()

  ControlSignals(const ControlSignals&) = delete;
  ControlSignals& operator=(const ControlSignals&) = delete;

  // Starts the waiting thread: each SIGHUP calls `on_reload()` and each
  // SIGUSR2 `on_upgrade()` (when with_reload), and the first SIGINT or SIGTERM
  // calls `on_stop(signo)`, after which the thread ends. It also ends when
  // `on_upgrade()` returns true: a new process has taken over.
  void start(std::function<void(int signo)> on_stop, std::function<void()> on_reload = nullptr,
             std::function<bool()> on_upgrade = nullptr);

  // Returns once the thread has ended: wakes it when no stop signal came, or
  // waits for a callback under way. Call before what the callbacks use dies.
  void join();

 private:
  sigset_t set_;
  std::atomic<bool> joining_{false};  // set by join() before it wakes the waiter with SIGUSR1
  std::thread waiter_;
};

// "SIGINT" or "SIGTERM", for log lines.
const char* stop_signal_name(int signo);

}  // namespace common
