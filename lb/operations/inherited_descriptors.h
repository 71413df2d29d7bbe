// Listening sockets a process starts with instead of binding its own: from
// the process it replaces (SIGUSR2, lb/operations/binary_upgrade.h) or from
// systemd socket activation. Both speak systemd's protocol: descriptors 3, 4,
// ... (LISTEN_FDS of them), meant for the process LISTEN_PID, named in order
// by LISTEN_FDNAMES ("proxy:admin:redirect"). A process started by an upgrade
// also gets LB_UPGRADE_READY_FD, the pipe on which it says it serves.
#pragma once

#include <sys/types.h>

namespace lb {

// Where the handed-over descriptors begin (systemd's SD_LISTEN_FDS_START).
constexpr int kFirstInheritedDescriptor = 3;
// The variables that hand descriptors over: a process takes them all and
// unsets them; one that starts another sets them all anew.
constexpr const char* kHandoverVariables[] = {"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", "LB_UPGRADE_READY_FD"};

struct InheritedDescriptors {
  int proxy = -1;     // the load balancer's listener
  int admin = -1;     // --admin-port's
  int redirect = -1;  // --redirect-http's
  int ready_pipe = -1;  // write "READY" here once serving (lb/operations/binary_upgrade.h)
};

// Pure: what the variables (nullptr when unset) give to process `pid`.
// Descriptors meant for another process are not taken. Names other than
// "proxy", "admin" and "redirect" (systemd's default is the socket unit's
// name) are allowed for a single descriptor, which is then the listener.
// Throws std::invalid_argument with a one-line reason.
InheritedDescriptors parse_inherited_descriptors(const char* listen_pid, const char* listen_fds,
                                                 const char* listen_fdnames, const char* ready_fd, pid_t pid);

// Reads the variables of this process, unsets them (a process this one starts
// must not take them) and marks the descriptors close-on-exec. Throws
// std::invalid_argument like parse_inherited_descriptors().
InheritedDescriptors take_inherited_descriptors();

}  // namespace lb
