// Endpoints for demos and for the load balancer's integration tests.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "backend/reply.h"
#include "backend/routes.h"
#include "common/log.h"

namespace backend {

namespace {

constexpr std::uint64_t kMaxSlowMs = 600000;               // 10 minutes
constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 40;  // 1 TiB, streamed

// Strict decimal parse: digits only, no sign, at most `max`.
std::optional<std::uint64_t> parse_uint(const std::string& text, std::uint64_t max) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

// /bytes body: byte i is 'a' + i % 26, so a client can check any slice.
// One static block, written from the right phase, avoids filling per chunk.
constexpr std::size_t kChunk = 64 * 1024;
const char* pattern_block() {
  static const std::string block = [] {
    std::string s(kChunk + 26, '\0');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
  }();
  return block.data();
}

void install_slow(httplib::Server& server, BackendState& state) {
  server.Get("/slow", [&state](const httplib::Request& req, httplib::Response& res) {
    auto ms = parse_uint(req.get_param_value("ms"), kMaxSlowMs);
    if (!ms) {
      reply_json(res, 400, {{"error", "ms must be an integer from 0 to 600000"},
                            {"server_id", state.id()}});
      return;
    }
    // only=ID: only that server is slow (one slow backend among fast ones, for a demo of hedging).
    if (req.has_param("only") && req.get_param_value("only") != state.id()) ms = 0;
    // Logged so a demo (or a test) can see the slow request has arrived.
    common::log_line("[" + state.id() + "] " + req.target + ": waiting " + std::to_string(*ms) +
                     " ms");
    state.sleep_unless_stopping(std::chrono::milliseconds(*ms));
    nlohmann::json body = hello_json(state, req);
    body["slept_ms"] = *ms;
    reply_json(res, 200, body);
  });
}

void install_health_switch(httplib::Server& server, BackendState& state) {
  server.Post("/health/fail", [&state](const httplib::Request&, httplib::Response& res) {
    state.set_failing(true);
    reply_json(res, 200, {{"status", "failing"}, {"server_id", state.id()}});
  });
  server.Post("/health/recover", [&state](const httplib::Request&, httplib::Response& res) {
    state.set_failing(false);
    reply_json(res, 200, {{"status", "ok"}, {"server_id", state.id()}});
  });
}

void install_bytes(httplib::Server& server, BackendState& state) {
  server.Get("/bytes", [&state](const httplib::Request& req, httplib::Response& res) {
    auto n = parse_uint(req.get_param_value("n"), kMaxBytes);
    if (!n) {
      reply_json(res, 400, {{"error", "n must be an integer from 0 to 2^40"},
                            {"server_id", state.id()}});
      return;
    }
    if (*n == 0) {
      // httplib treats a zero-length provider as "length unknown" and sends no
      // Content-Length, so the body would only end when the connection closes.
      res.set_content("", "application/octet-stream");
      return;
    }
    res.set_content_provider(
        static_cast<std::size_t>(*n), "application/octet-stream",
        [](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
          if (length == 0) return false;  // httplib would call again at once: never spin
          std::size_t count = std::min(length, kChunk);
          return sink.write(pattern_block() + offset % 26, count);
        });
  });
}

void install_sink(httplib::Server& server, BackendState& state) {
  // Reads the body as it arrives and keeps only a count and a checksum, so
  // bodies of any size can be pushed through a proxy and verified.
  server.Post("/sink", [&state](const httplib::Request&, httplib::Response& res,
                                const httplib::ContentReader& content_reader) {
    std::uint64_t bytes = 0;
    std::uint64_t hash = 14695981039346656037ull;  // FNV-1a 64 offset basis
    content_reader([&](const char* data, std::size_t length) {
      bytes += length;
      for (std::size_t i = 0; i < length; ++i) {
        hash = (hash ^ static_cast<unsigned char>(data[i])) * 1099511628211ull;
      }
      return true;
    });
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
    reply_json(res, 200, {{"server_id", state.id()}, {"bytes", bytes}, {"fnv1a64", hex}});
  });
}

void install_cookies(httplib::Server& server, BackendState& state) {
  // Values a proxy must pass on byte for byte: two Set-Cookie headers (never
  // merged) and percent-escapes that must not be decoded.
  server.Get("/cookies", [&state](const httplib::Request&, httplib::Response& res) {
    res.set_header("Set-Cookie", "sid=s%3Aabc%26d; Path=/");
    res.set_header("Set-Cookie", "theme=dark");
    res.set_header("Location", "/next?a=%26b");
    reply_json(res, 200, {{"message", "cookies set"}, {"server_id", state.id()}});
  });
}

void install_status(httplib::Server& server, BackendState& state) {
  server.Get(R"(/status/(\d{1,3}))", [&state](const httplib::Request& req,
                                              httplib::Response& res) {
    auto code = parse_uint(req.matches[1], 599);
    if (!code || *code < 200) {
      reply_json(res, 400, {{"error", "status must be from 200 to 599"},
                            {"server_id", state.id()}});
      return;
    }
    int status = static_cast<int>(*code);
    if (status == 204 || status == 304) {
      res.status = status;  // these never carry a body
      return;
    }
    reply_json(res, status, {{"status", status}, {"server_id", state.id()}});
  });
}

void install_echo(httplib::Server& server, BackendState& state) {
  // Like GET / on any path below /echo/, to check that a proxy forwards
  // the whole target (path and query) unaltered.
  server.Get("/echo(/.*)?", [&state](const httplib::Request& req, httplib::Response& res) {
    reply_json(res, 200, hello_json(state, req));
  });
}

}  // namespace

void install_demo_routes(httplib::Server& server, BackendState& state) {
  install_slow(server, state);
  install_health_switch(server, state);
  install_bytes(server, state);
  install_sink(server, state);
  install_cookies(server, state);
  install_status(server, state);
  install_echo(server, state);
}

}  // namespace backend
