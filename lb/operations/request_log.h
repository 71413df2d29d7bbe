// The live request view (admin `GET /requests` and `GET /requests/stream`):
// the last 200 requests, each with the decision trace in words, so a room can
// watch every request decide.
//
// Connection threads add a record under one short lock (a move into a ring
// slot); readers copy out under the same lock and format outside it. It exists
// only with --admin-port, so a load balancer without the admin server pays nothing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace lb {

struct RequestRecord {
  uint64_t sequence = 0;  // set by RequestLog::add(): 1, 2, ...; "id" in JSON and the SSE event id
  std::chrono::system_clock::time_point time;  // when the request head was read
  std::string client;
  std::string method;
  std::string target;
  int status = 0;
  std::string pool;     // "" when none (404)
  std::string backend;  // URL of the backend that answered, "" when none
  double duration_ms = 0;
  std::string request_id;  // --request-id-header's value, "" when off
  std::string trace;       // DecisionTrace::in_words()
};

nlohmann::json request_json(const RequestRecord& record);

class RequestLog {
 public:
  static constexpr std::size_t kCapacity = 200;
  RequestLog() : ring_(kCapacity) {}

  void add(RequestRecord record);
  // Up to kCapacity records, newest first; only those after `after` (a sequence) when given.
  std::vector<RequestRecord> newest_first(uint64_t after = 0) const;
  // The records after `sequence` still held, oldest first; waits up to
  // `timeout` for one. Empty on timeout or once stopped.
  std::vector<RequestRecord> wait_after(uint64_t sequence, std::chrono::milliseconds timeout) const;
  uint64_t last_sequence() const;
  // Wakes every waiter for good (the admin server is stopping).
  void stop();
  bool stopped() const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable added_;
  std::vector<RequestRecord> ring_;  // guards: mutex_; ring_[sequence % kCapacity]
  uint64_t last_ = 0;                // guards: mutex_; sequence of the newest record
  bool stopped_ = false;             // guards: mutex_
};

}  // namespace lb
