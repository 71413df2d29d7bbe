// DNS SRV discovery's pure part (README "Backends from DNS SRV"): the
// `srv+http://NAME` backend text, SRV records -> backend specs, and what
// changes between a pool's discovered backends and a new answer.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lb/balancing/backend_url.h"
#include "lb/transport/dns_lookup.h"

namespace lb {

// One `srv+http://NAME` (or srv+https://) backend entry of a pool.
struct SrvSource {
  std::string scheme;  // of the backends it gives: "http" or "https"
  std::string name;    // "_http._tcp.web.example", lowercase, without a trailing dot
  std::string url() const { return "srv+" + scheme + "://" + name; }
  bool operator==(const SrvSource& other) const { return scheme == other.scheme && name == other.name; }
};

// True for text that starts "srv+" (then parse_srv_source() decides).
bool is_srv_url(const std::string& text);

// Parses `srv+http://NAME` / `srv+https://NAME`. Throws std::invalid_argument
// for another scheme, an empty or invalid name, a port, a path or options
// (the records give ports and weights).
SrvSource parse_srv_source(const std::string& text);

// SRV weight (0..65535) -> backend weight (1..1000): 0 -> 1, above 1000 -> 1000.
int weight_from_srv(int srv_weight);

// The backends `records` give: records with port 0, the root target (".")
// or a target `resolves` says has no address are skipped (their
// "host:port - reason" lines go to `skipped`); of the rest, only the lowest
// priority value is used; a target:port given twice counts once (the first).
// Sorted by host and port, whatever order the server sent.
std::vector<BackendSpec> backends_from_srv(const SrvSource& source, const std::vector<SrvRecord>& records,
                                           const std::function<bool(const std::string& target)>& resolves,
                                           std::vector<std::string>& skipped);

// From the discovered backends a pool has to the ones an answer gives.
struct DiscoveredChange {
  std::vector<BackendSpec> added;
  std::vector<std::string> removed;     // URLs
  std::vector<BackendSpec> reweighted;  // same URL, new weight
  bool empty() const { return added.empty() && removed.empty() && reweighted.empty(); }
};
DiscoveredChange diff_discovered(const std::vector<BackendSpec>& current, const std::vector<BackendSpec>& wanted);

}  // namespace lb
