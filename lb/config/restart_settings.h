// What a reload (SIGHUP, a change in etcd) cannot apply: the settings a
// running process only takes at start.
#pragma once

#include <string>
#include <vector>

#include "lb/config/options.h"

namespace lb {

// The flags whose values differ between `started` and `fresh` among those
// that need a restart ("--port", "--acme-domain", ...), in flag order.
std::vector<std::string> settings_needing_restart(const Options& started, const Options& fresh);

}  // namespace lb
