// systemd's readiness protocol (sd_notify, Type=notify units): one datagram
// per state change to the unix socket named by $NOTIFY_SOCKET. Outside systemd
// the variable is unset and this does nothing.
//
//   READY=1       the first health round is done and the listener is open
//   RELOADING=1   a SIGHUP reload begins (READY=1 again when it ends)
//   STOPPING=1    SIGINT/SIGTERM: draining
#pragma once

#include <string>

namespace lb {

// Sends `state` ("READY=1", ...) if $NOTIFY_SOCKET is set; false if sending failed.
bool notify_service_manager(const std::string& state);

}  // namespace lb
