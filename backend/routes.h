// The backend's HTTP routes: the ones README "backend_server" lists, and demo helpers.
#pragma once

#include <httplib.h>

#include "backend/backend_state.h"

namespace backend {

// GET /health, GET /, POST/PUT/PATCH/DELETE on any path, JSON 404 for the rest.
// `state` must outlive the server.
void install_routes(httplib::Server& server, BackendState& state);

// Demo and test endpoints (see README_SNIPPET.md): /slow, /health/fail,
// /health/recover, /bytes, /sink, /cookies, /status/{code}, /echo/...
// Call before install_routes(): httplib tries routes in the order they were
// added, and install_routes() adds catch-all patterns.
void install_demo_routes(httplib::Server& server, BackendState& state);

}  // namespace backend
