// SIGUSR2: a zero-downtime binary upgrade (README "Upgrading without a
// dropped request").
//
//   old process                               new process (same path, same arguments)
//   start_successor(): fork + exec,  ───────▶ takes the listening sockets as
//     listeners as descriptors 3, 4, ...        descriptors (inherited_descriptors.h),
//     and a pipe                                runs its first health round
//   waits on the pipe                ◀─────── announce_ready(): "READY" on the pipe
//   hand_over(): stops accepting,               serves; to systemd: MAINPID=<new>, READY=1
//     finishes in-flight requests, exits
//
// The sockets stay open all along, so a connection arriving at any moment
// waits in the kernel's accept queue for one of the two. A new process that
// exits, or is not ready in time, is reaped (killed if need be) and the old
// one goes on serving as if nothing happened.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "lb/operations/inherited_descriptors.h"

namespace lb {

struct HandedListener {
  std::string name;  // "proxy", "admin" or "redirect"
  int fd;
};

class BinaryUpgrade {
 public:
  // Records the path of the running executable now: once a package manager
  // has replaced the file, /proc/self/exe would name the deleted one.
  explicit BinaryUpgrade(std::vector<std::string> arguments);

  // Starts the binary at that path with the same arguments, handing
  // `listeners` over, and waits up to `timeout` for it to report ready. True:
  // it serves now as process `successor` (the caller hands over). False: it
  // failed, and `error` says how; nothing of this process changed.
  bool start_successor(const std::vector<HandedListener>& listeners, std::chrono::milliseconds timeout,
                       pid_t& successor, std::string& error) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> arguments_;
};

// In every process, once it serves: tells the process it replaces (when
// `inherited.ready_pipe` is open) and systemd (READY=1; a successor adds
// MAINPID, so systemd follows it to the new process).
void announce_ready(InheritedDescriptors& inherited);

}  // namespace lb
