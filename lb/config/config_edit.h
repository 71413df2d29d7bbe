// An admin change to a backend, written into the JSON config (json_config.h)
// that --config-etcd keeps in etcd, so every instance reading it makes the
// same change. Pure: text in, text out.
//
// The backend is found by pool and canonical URL in the top-level "backends"
// (a "POOL=URL" entry there belongs to POOL) and in "pools".POOL."backends".
// Add appends {"url", "weight"} (or the bare URL) to the pool's list: its
// "pools" entry if it has one, else the top-level "backends" ("POOL=URL" for
// a pool other than "default"). Drain and enable set "drain": true / false,
// weight sets "weight"; an entry given as a bare URL becomes an object.
#pragma once

#include <optional>
#include <string>

#include "lb/operations/backend_change.h"

namespace lb {

// The new config text (JSON, indented), or nullopt when `change` changes
// nothing (a removed backend that is not there, a second add of one that is).
// Throws std::invalid_argument when `config` is not a JSON object.
std::optional<std::string> edit_config(const std::string& config, const BackendChange& change);

}  // namespace lb
