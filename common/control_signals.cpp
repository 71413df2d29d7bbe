#include "common/control_signals.h"

#include <pthread.h>

#include <utility>

namespace common {

namespace {

// Sent by join() to wake the waiter when no stop signal came.
constexpr int kWakeSignal = SIGUSR1;

}  // namespace

ControlSignals::ControlSignals(bool with_reload) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  if (with_reload) {
    sigaddset(&set_, SIGHUP);
    sigaddset(&set_, SIGUSR2);
  }
  sigaddset(&set_, kWakeSignal);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

ControlSignals::~ControlSignals() { join(); }

void ControlSignals::join() {
  if (waiter_.joinable()) {
    joining_.store(true);
    // Harmless if the waiter already returned: the signal stays pending, blocked.
    pthread_kill(waiter_.native_handle(), kWakeSignal);
    waiter_.join();
  }
}

void ControlSignals::start(std::function<void(int)> on_stop, std::function<void()> on_reload,
                           std::function<bool()> on_upgrade) {
  waiter_ = std::thread([this, on_stop = std::move(on_stop), on_reload = std::move(on_reload),
                         on_upgrade = std::move(on_upgrade)] {
    int signo = 0;
    while (sigwait(&set_, &signo) == 0) {
      if (signo == SIGHUP) {
        if (on_reload) on_reload();
      } else if (signo == SIGUSR2) {
        if (on_upgrade && on_upgrade()) return;
      } else if (signo == SIGINT || signo == SIGTERM) {
        on_stop(signo);
        return;
      } else if (joining_.load()) {
        return;  // join()'s wake-up; a SIGUSR1 from outside changes nothing
      }
    }
  });
}

const char* stop_signal_name(int signo) { return signo == SIGINT ? "SIGINT" : "SIGTERM"; }

}  // namespace common
