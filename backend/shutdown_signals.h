// Turns SIGINT and SIGTERM into a callback on an ordinary thread.
//
// The signals are blocked in every thread and collected with sigwait(), so the
// callback may lock mutexes and call into httplib, which a signal handler may not.
#pragma once

#include <signal.h>

#include <functional>
#include <thread>

namespace backend {

class ShutdownSignals {
 public:
  // Blocks SIGINT and SIGTERM. Construct before starting any other thread so
  // that every thread inherits the blocked mask.
  ShutdownSignals();
  // Calls stop().
  ~ShutdownSignals();

  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  // Starts a thread that calls `on_signal(signo)` once, on the first SIGINT or SIGTERM.
  void start(std::function<void(int)> on_signal);

  // Returns once the thread has ended: wakes it if no signal came, or waits
  // for a running callback to finish. Call before what the callback uses dies.
  void stop();

 private:
  sigset_t set_;
  std::thread waiter_;
};

}  // namespace backend
