// The one interface every balancing algorithm implements.
//
// A workshop adds an algorithm by writing one class with pick() in its own file,
// one line in kAlgorithms (selector.cpp: its name and maker), and one unit test.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lb/balancing/backend.h"

namespace lb {

// What a selector may consider besides the backends themselves.
struct SelectionContext {
  // Backends this request already failed on: never chosen again (retries).
  std::vector<const Backend*> avoid;
  // When the choice is made: ejections and slow-start ramps are read against it.
  Backend::Clock::time_point now = Backend::Clock::now();
  // True: a backend at its --max-requests limit is still eligible (would it
  // be, once a place frees?).
  bool ignore_room = false;
};

class Selector {
 public:
  virtual ~Selector() = default;
  // Chooses a healthy backend not in `context.avoid`, or nullptr when none is.
  // Thread-safe: each implementation guards its own state with one mutex, held
  // only while choosing (never during I/O).
  virtual std::shared_ptr<Backend> pick(const SelectionContext& context) = 0;
  virtual const char* name() const = 0;
};

// True when `backend` may take this request: healthy, not ejected, not
// draining, its circuit breaker lets traffic through, below its limit
// (unless `context.ignore_room`), and not already tried for it.
bool is_eligible(const Backend& backend, const SelectionContext& context);

// The algorithms make_selector() knows: "round-robin", "least-connections",
// "least-latency" (flags, the config file and PUT /pools accept exactly these).
const std::vector<std::string>& algorithm_names();
// "round-robin, least-connections or least-latency", for messages.
std::string algorithm_choices();

// One of algorithm_names(). Throws std::invalid_argument otherwise.
std::unique_ptr<Selector> make_selector(const std::string& algorithm, BackendList backends);

}  // namespace lb
