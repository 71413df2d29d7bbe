#include "backend/shutdown_signals.h"

#include <pthread.h>

#include <utility>

namespace backend {

namespace {

// Sent by the destructor to wake the waiter when no real signal came.
constexpr int kWakeSignal = SIGUSR1;

}  // namespace

ShutdownSignals::ShutdownSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, kWakeSignal);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

ShutdownSignals::~ShutdownSignals() { stop(); }

void ShutdownSignals::stop() {
  if (waiter_.joinable()) {
    // Harmless if the waiter already returned: the signal stays pending, blocked.
    pthread_kill(waiter_.native_handle(), kWakeSignal);
    waiter_.join();
  }
}

void ShutdownSignals::start(std::function<void(int)> on_signal) {
  waiter_ = std::thread([this, on_signal = std::move(on_signal)] {
    int signo = 0;
    if (sigwait(&set_, &signo) == 0 && signo != kWakeSignal) on_signal(signo);
  });
}

}  // namespace backend
