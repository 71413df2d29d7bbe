// A loopback port for a server that must be told its port before it starts
// (redis-server, pebble and the addresses pebble validates against).
#pragma once

namespace test_support {

// A port the kernel just handed out and released: free, barring a race.
// Throws std::runtime_error when none is available.
int free_port();

}  // namespace test_support
