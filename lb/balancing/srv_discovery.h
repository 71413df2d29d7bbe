// DNS SRV discovery on a background std::thread (README "Backends from DNS
// SRV"): at each pool's health interval, every `srv+http://NAME` source of
// the pool is looked up and the pool's backends from it are made to match
// the answer (Balancer::set_discovered). A failed lookup keeps the last
// answer; it is logged when it starts failing and when it recovers:
//   [Discovery] _http._tcp.web.example: lookup failed (timeout); keeping 2 backends
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lb/balancing/balancer.h"
#include "lb/balancing/health_checker.h"
#include "lb/transport/dns_lookup.h"

namespace lb {

// How discovery asks DNS; injected so tests can answer without a server.
struct DiscoveryDns {
  // The SRV records of a name, within a timeout; false with `error` set.
  std::function<bool(const std::string& name, Millis timeout, SrvAnswer& answer, std::string& error)> lookup_srv;
  // Whether a target host name has an address (used when the reply's additional section has none).
  std::function<bool(const std::string& host, Millis timeout)> resolves;
};

// Through c-ares to `servers` (--resolver); none: the system's resolvers.
DiscoveryDns dns_through(const std::vector<DnsServer>& servers);

// The health checker's resolver: getaddrinfo without --resolver, else
// c-ares A/AAAA lookups to those servers.
Resolver backend_resolver(const std::vector<DnsServer>& servers);

class SrvDiscovery {
 public:
  // `backends_added` runs after a pass that added backends (they are
  // checked before they get traffic: HealthChecker::check_soon()).
  SrvDiscovery(Balancer& balancer, DiscoveryDns dns, std::function<void()> backends_added);
  ~SrvDiscovery();
  SrvDiscovery(const SrvDiscovery&) = delete;
  SrvDiscovery& operator=(const SrvDiscovery&) = delete;

  // Looks every source up once, now (at start-up, before the first health
  // round and before start()).
  void refresh_all();
  // Starts the thread: each source again one pool health interval after its
  // last lookup; a source a reload adds, at once.
  void start();
  // Wakes and joins the thread; safe to call more than once.
  void stop();

 private:
  struct Source {
    std::string pool;
    SrvSource source;
    std::chrono::milliseconds interval;
    std::chrono::milliseconds timeout;
    std::shared_ptr<PoolShared> shared;  // where its lookups are reported
    std::string key() const { return pool + " " + source.url(); }
  };
  // What a source's last lookups said, for logging changes only.
  struct SourceState {
    bool failing = false;
    std::vector<std::string> skipped;
  };

  std::vector<Source> sources() const;
  // One lookup and the pool change it brings; true if it added backends.
  bool refresh(const Source& source);
  void log_change(const Source& source, const DiscoveredChange& change) const;
  void loop();

  Balancer& balancer_;
  const DiscoveryDns dns_;
  const std::function<void()> backends_added_;
  // Used by refresh_all() before start(), then only by the thread.
  std::map<std::string, SourceState> states_;                             // by Source::key()
  std::map<std::string, std::chrono::steady_clock::time_point> timetable_;  // next lookup, by Source::key()
  std::mutex mutex_;
  std::condition_variable wake_;  // signalled by stop()
  bool stopping_ = false;         // guards: mutex_
  std::thread thread_;
};

}  // namespace lb
