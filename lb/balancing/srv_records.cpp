#include "lb/balancing/srv_records.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace lb {

bool is_srv_url(const std::string& text) { return text.compare(0, 4, "srv+") == 0; }

SrvSource parse_srv_source(const std::string& text) {
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos) {
    throw std::invalid_argument("'" + text + "' must look like srv+http://_service._tcp.example.com");
  }
  SrvSource source;
  const std::string scheme = text.substr(0, scheme_end);
  if (scheme != "srv+http" && scheme != "srv+https") {
    throw std::invalid_argument("'" + text + "' has unsupported scheme '" + scheme + "' (use srv+http or srv+https)");
  }
  source.scheme = scheme.substr(4);
  source.name = text.substr(scheme_end + 3);
  if (source.name.find(',') != std::string::npos) {
    throw std::invalid_argument("'" + text + "': no options after an SRV name (the records give the weights)");
  }
  if (!source.name.empty() && source.name.back() == '/') source.name.pop_back();
  if (source.name.find(':') != std::string::npos) {
    throw std::invalid_argument("'" + text + "': no port after an SRV name (the records give the ports)");
  }
  if (source.name.find('/') != std::string::npos) throw std::invalid_argument("'" + text + "' must not have a path");
  if (!source.name.empty() && source.name.back() == '.') source.name.pop_back();
  if (source.name.empty()) throw std::invalid_argument("'" + text + "' has no SRV name");
  const bool valid = source.name.size() <= 253 && source.name.front() != '.' &&
                     source.name.find("..") == std::string::npos &&
                     std::all_of(source.name.begin(), source.name.end(), [](unsigned char c) {
                       return std::isalnum(c) || c == '_' || c == '-' || c == '.';
                     });
  if (!valid) throw std::invalid_argument("'" + text + "' has an invalid SRV name");
  std::transform(source.name.begin(), source.name.end(), source.name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return source;
}

int weight_from_srv(int srv_weight) { return std::clamp(srv_weight, 1, kMaxBackendWeight); }

std::vector<BackendSpec> backends_from_srv(const SrvSource& source, const std::vector<SrvRecord>& records,
                                           const std::function<bool(const std::string& target)>& resolves,
                                           std::vector<std::string>& skipped) {
  std::vector<const SrvRecord*> usable;
  for (const SrvRecord& record : records) {
    const std::string where = (record.target.empty() ? "." : record.target) + ":" + std::to_string(record.port);
    if (record.target.empty() || record.target == ".") {
      skipped.push_back(where + " - target '.' (no service)");
    } else if (record.port == 0) {
      skipped.push_back(where + " - port 0");
    } else if (!resolves(record.target)) {
      skipped.push_back(where + " - target does not resolve");
    } else {
      usable.push_back(&record);
    }
  }
  std::vector<BackendSpec> specs;
  if (usable.empty()) return specs;
  const uint16_t preferred = (*std::min_element(usable.begin(), usable.end(), [](const auto* a, const auto* b) {
                               return a->priority < b->priority;
                             }))->priority;
  for (const SrvRecord* record : usable) {
    if (record->priority != preferred) continue;
    BackendSpec spec;
    spec.scheme = source.scheme;
    spec.host = record->target;
    spec.port = record->port;
    spec.weight = weight_from_srv(record->weight);
    spec.discovered_by = source.url();
    const bool seen = std::any_of(specs.begin(), specs.end(), [&](const BackendSpec& s) { return s.url() == spec.url(); });
    if (!seen) specs.push_back(spec);
  }
  // DNS servers rotate the records' order; the pool's order (and so its rotation) should not follow.
  std::stable_sort(specs.begin(), specs.end(), [](const BackendSpec& a, const BackendSpec& b) {
    return a.host != b.host ? a.host < b.host : a.port < b.port;
  });
  return specs;
}

DiscoveredChange diff_discovered(const std::vector<BackendSpec>& current, const std::vector<BackendSpec>& wanted) {
  DiscoveredChange change;
  for (const BackendSpec& spec : wanted) {
    auto now = std::find_if(current.begin(), current.end(), [&](const BackendSpec& s) { return s.url() == spec.url(); });
    if (now == current.end()) {
      change.added.push_back(spec);
    } else if (now->weight != spec.weight) {
      change.reweighted.push_back(spec);
    }
  }
  for (const BackendSpec& spec : current) {
    const bool kept = std::any_of(wanted.begin(), wanted.end(), [&](const BackendSpec& s) { return s.url() == spec.url(); });
    if (!kept) change.removed.push_back(spec.url());
  }
  return change;
}

}  // namespace lb
