// JSON bodies shared by the backend's handlers.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "backend/backend_state.h"

namespace backend {

// Sends `body` as application/json with `status`.
void reply_json(httplib::Response& res, int status, const nlohmann::json& body);

// The request's headers as one JSON object (repeated names joined with ", "),
// without the REMOTE_ADDR/REMOTE_PORT/LOCAL_ADDR/LOCAL_PORT entries httplib adds.
// Values are as httplib delivers them: already percent-decoded.
nlohmann::json headers_json(const httplib::Headers& headers);

// {"message": "Hello from ID!", "server_id", "path", "headers"}: the GET / reply.
nlohmann::json hello_json(const BackendState& state, const httplib::Request& req);

// {"message": "<METHOD> request received by ID", "server_id", "your_data",
// "path", "headers"}: the reply to POST, PUT, PATCH and DELETE.
nlohmann::json echo_json(const BackendState& state, const httplib::Request& req);

}  // namespace backend
