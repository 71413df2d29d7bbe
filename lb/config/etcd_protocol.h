// The etcd v3 JSON gateway's messages (POST /v3/kv/range, /v3/kv/txn,
// /v3/watch), built and read without I/O. Keys and values travel in base64;
// 64-bit numbers arrive as JSON strings ("revision": "7") and fields at their
// default are left out ("succeeded": false is absent).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lb {

std::string base64_encode(const std::string& bytes);
// Throws std::invalid_argument for text that is not base64.
std::string base64_decode(const std::string& text);

// One version of a key.
struct EtcdValue {
  std::string value;
  int64_t mod_revision = 0;
};

// What a range of one key answered: the store's revision and the key's value (none: absent).
struct EtcdRange {
  int64_t revision = 0;
  std::optional<EtcdValue> value;
};

// One message of a watch stream.
struct EtcdWatchMessage {
  bool created = false;   // the watch is set up
  bool canceled = false;  // etcd ended it (compact_revision > 0: the history we asked for is gone)
  int64_t compact_revision = 0;
  int64_t revision = 0;  // the store's revision when sent
  struct Event {
    bool deleted = false;
    EtcdValue value;  // deleted: mod_revision only
  };
  std::vector<Event> events;
  std::string error;  // {"error": ...}: the gateway's own complaint
};

nlohmann::json etcd_range_request(const std::string& key);
// Puts `value` if the key's mod_revision is still `mod_revision` (0: the key must be absent).
nlohmann::json etcd_cas_put_request(const std::string& key, const std::string& value, int64_t mod_revision);
// Watches `key` from `start_revision` on (history first, then live changes).
nlohmann::json etcd_watch_request(const std::string& key, int64_t start_revision);

// Each throws std::invalid_argument for a body that is not what etcd sends.
EtcdRange parse_etcd_range(const std::string& body);
bool parse_etcd_txn_succeeded(const std::string& body);
EtcdWatchMessage parse_etcd_watch_message(const std::string& line);

}  // namespace lb
