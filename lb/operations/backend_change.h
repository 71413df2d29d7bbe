// An admin change to one backend, as the admin API hands it to whoever keeps
// a shared configuration (lb/config/shared_config.h, for --config-etcd).
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace lb {

struct BackendChange {
  enum class Kind { Add, Remove, Drain, Enable, Weight };
  Kind kind = Kind::Add;
  std::string pool = "default";
  std::string url;  // canonical (BackendSpec::url())
  int weight = 0;   // Weight; Add: 0 when the request named none
};

// What the admin server asks of a shared configuration; every member may be
// empty (no --config-etcd).
struct SharedConfigHooks {
  // Records the change there; returns "" or why it could not (the change
  // then holds on this instance only). Runs on the admin thread, no lock held.
  std::function<std::string(const BackendChange&)> write;
  // /status "config": where the configuration comes from and its revision.
  std::function<nlohmann::json()> status;
};

}  // namespace lb
