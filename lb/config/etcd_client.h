// A small client of etcd's v3 JSON gateway (etcd_protocol.h) over
// cpp-httplib: read one key, compare-and-swap it, watch it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "lb/config/etcd_protocol.h"

namespace httplib {
class Client;
}

namespace lb {

// etcd did not answer, or answered something that is not the gateway's JSON.
struct EtcdError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class EtcdClient {
 public:
  // `url`: http://host:port, etcd's client URL.
  explicit EtcdClient(std::string url);
  ~EtcdClient();

  // Throw EtcdError.
  EtcdRange range(const std::string& key);
  // True if the key still had `mod_revision` (0: was absent) and now holds `value`.
  bool compare_and_put(const std::string& key, const std::string& value, int64_t mod_revision);

  // How a watch ended.
  struct WatchEnd {
    bool created = false;  // etcd had set the watch up (so it was reachable)
    std::string error;     // why the stream could not start or broke off ("" when `on_message` ended it)
  };
  // Streams `key`'s changes from `start_revision` on, calling `on_message` for
  // each message, until the stream breaks, `on_message` returns false or
  // stop_watch() is called. Blocks; one watch at a time.
  WatchEnd watch(const std::string& key, int64_t start_revision,
                 const std::function<bool(const EtcdWatchMessage&)>& on_message);
  // From another thread: ends a watch in progress (its socket is shut down).
  void stop_watch();

 private:
  std::string post(const std::string& path, const std::string& body);

  const std::string url_;
  std::unique_ptr<httplib::Client> watch_client_;
  // httplib's own Client::stop() locks inside the uninstrumented library,
  // which ThreadSanitizer misreads; the watch's socket is shut down directly.
  std::mutex watch_socket_mutex_;
  int watch_socket_ = -1;  // guards: watch_socket_mutex_; the watch's connection while one runs
};

}  // namespace lb
