// Compression (README "Compression", --compress) through the real binaries
// with real clients: curl --compressed and the zstd, brotli and gzip tools
// decode what the load balancer sends, compared byte for byte with what the
// backend sent; q-values and ties; every response that must pass untouched;
// HTTP/2; a route's own "compress"; a 1 GB body in bounded memory.
#include <catch2/catch.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "test/support/decompress.h"

#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/recording_backend.h"
#include "test/support/shell.h"
#include "test/support/test_certificates.h"
#include "test/support/text_stream_backend.h"

using namespace test_support;

namespace {

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name, const std::string& text = "")
      : path("/tmp/lb_compression_test_" + std::to_string(::getpid()) + "_" + name) {
    std::ofstream(path) << text;
  }
  ~TempFile() { std::remove(path.c_str()); }
  std::string read() const {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

std::string json_body() {
  std::string out = "[";
  for (int i = 0; i < 600; ++i) {
    out += std::string(i ? "," : "") + "{\"id\":" + std::to_string(i * 7919 % 10007) + ",\"name\":\"item " +
           std::to_string(i) + "\",\"ok\":" + (i % 3 ? "true" : "false") + "}";
  }
  return out + "]";
}

const std::string kJson = json_body();  // ~20 KB
const std::string kHtml = "<!doctype html><ul>" + [] {
  std::string items;
  for (int i = 0; i < 800; ++i) items += "<li><a href=\"/p/" + std::to_string(i) + "\">Product " + std::to_string(i) + "</a></li>";
  return items;
}() + "</ul>";

std::string answer(const std::string& status, const std::string& fields, const std::string& body) {
  return "HTTP/1.1 " + status + "\r\n" + fields + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string chunked(const std::string& fields, const std::string& body) {
  std::string out = "HTTP/1.1 200 OK\r\n" + fields + "Transfer-Encoding: chunked\r\n\r\n";
  for (size_t at = 0; at < body.size(); at += 3000) {
    const std::string part = body.substr(at, 3000);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", part.size());
    out += size + part + "\r\n";
  }
  return out + "0\r\n\r\n";
}

// One fake backend per kind of answer, each behind a route of its path.
struct Backends {
  std::map<std::string, std::unique_ptr<RecordingBackend>> by_path;
  Backends() {
    const std::string json = "Content-Type: application/json\r\nETag: \"v1\"\r\n";
    add("/json", answer("200 OK", json, kJson));
    add("/html", chunked("Content-Type: text/html; charset=utf-8\r\nVary: Origin\r\n", kHtml));
    add("/small", answer("200 OK", "Content-Type: text/plain\r\n", std::string(1023, 'a')));
    add("/png", answer("200 OK", "Content-Type: image/png\r\n", std::string(5000, 'p')));
    add("/encoded", answer("200 OK", json + "Content-Encoding: gzip\r\n", std::string(3000, 'z')));
    add("/no-transform", answer("200 OK", json + "Cache-Control: no-transform\r\n", kJson));
    add("/no-content", "HTTP/1.1 204 No Content\r\nContent-Type: text/plain\r\n\r\n");
    add("/not-modified", "HTTP/1.1 304 Not Modified\r\nContent-Type: application/json\r\nETag: \"v1\"\r\n\r\n");
    add("/partial", answer("206 Partial Content", json + "Content-Range: bytes 0-1999/20000\r\n", kJson.substr(0, 2000)));
  }
  void add(const std::string& path, const std::string& response) {
    by_path[path] = std::make_unique<RecordingBackend>(response);
  }
  // The config file: pools and routes, each route's extra keys from `route_keys`.
  std::string config(const std::map<std::string, std::string>& route_keys = {}) const {
    std::string pools, routes;
    for (const auto& [path, backend] : by_path) {
      const std::string name = path.substr(1);
      pools += std::string(pools.empty() ? "" : ",") + "\"" + name + "\": {\"backends\": [\"" + backend->url() + "\"]}";
      const auto extra = route_keys.find(path);
      routes += std::string(routes.empty() ? "" : ",") + "{\"path\": \"" + path + "\", \"pool\": \"" + name + "\"" +
                (extra == route_keys.end() ? "" : ", " + extra->second) + "}";
    }
    return "{\"pools\": {" + pools + "}, \"routes\": [" + routes + "]}";
  }
};

RawResponse get(int port, const std::string& target, const HeaderList& headers, const std::string& method = "GET") {
  return http_request(port, build_request(method, target, headers));
}

std::string coding_of(const RawResponse& response) { return response.header("Content-Encoding").value_or(""); }

const char* kDecoders[][2] = {{"zstd", "zstd -dc"}, {"br", "brotli -dc"}, {"gzip", "gzip -dc"}};

}  // namespace

// Each encoding, forced by Accept-Encoding: curl --compressed and the
// coding's own command-line decoder both get the backend's bytes back; the
// head says what changed (Content-Encoding, Vary, weak ETag, chunked).
TEST_CASE("compression: zstd, br and gzip decoded by curl and by their tools", "[integration][compression]") {
  Backends backends;
  TempFile config("each.json", backends.config());
  LoadBalancerProcess lb({}, {"--config", config.path, "--compress"});
  const std::string base = "http://127.0.0.1:" + std::to_string(lb.port());
  for (const auto& [coding, decoder] : kDecoders) {
    INFO(coding);
    for (const auto& [path, body] : {std::pair<std::string, std::string>{"/json", kJson}, {"/html", kHtml}}) {
      INFO(path);
      TempFile out("body"), head("head");
      const std::string accept = std::string(" -H 'Accept-Encoding: ") + coding + "' ";
      auto [status, output] = shell("curl -sS --compressed" + accept + "-D " + head.path + " -o " + out.path + " " + base + path);
      REQUIRE(status == 0);
      CHECK(out.read() == body);
      const std::string fields = head.read();
      CHECK_THAT(fields, Catch::Contains(std::string("Content-Encoding: ") + coding + "\r\n"));
      CHECK_THAT(fields, Catch::Contains("Transfer-Encoding: chunked\r\n"));
      CHECK_THAT(fields, !Catch::Contains("Content-Length", Catch::CaseSensitive::No));
      CHECK_THAT(fields, Catch::Contains(path == "/json" ? "Vary: Accept-Encoding\r\n" : "Vary: Origin, Accept-Encoding\r\n"));
      if (path == "/json") CHECK_THAT(fields, Catch::Contains("ETag: W/\"v1\"\r\n"));
      auto [tool_status, decoded] = shell("curl -sS" + accept + base + path + " | " + decoder);
      CHECK(tool_status == 0);
      CHECK(decoded == body);
    }
  }
  // curl --compressed alone offers "deflate, gzip, br, zstd": equal q, zstd wins.
  TempFile head("default_head");
  auto [status, body] = shell("curl -sS --compressed -D " + head.path + " " + base + "/json");
  CHECK(status == 0);
  CHECK(body == kJson);
  CHECK_THAT(head.read(), Catch::Contains("Content-Encoding: zstd\r\n"));
}

// q-values choose; q=0 refuses; "*" covers the rest; ties go zstd, br, gzip.
TEST_CASE("compression: q-values and ties in Accept-Encoding", "[integration][compression]") {
  Backends backends;
  TempFile config("q.json", backends.config());
  LoadBalancerProcess lb({}, {"--config", config.path, "--compress"});
  const std::pair<const char*, const char*> cases[] = {
      {"gzip, br", "br"},
      {"gzip, br, zstd", "zstd"},
      {"zstd;q=0.5, br;q=0.9, gzip;q=0.9", "br"},
      {"zstd;q=0.1, gzip;q=1.0, br;q=0.5", "gzip"},
      {"gzip;q=0, br;q=0, zstd;q=0", ""},
      {"*", "zstd"},
      {"*;q=0.5, zstd;q=0", "br"},
      {"identity", ""},
      {"deflate", ""},
  };
  for (const auto& [accept, expected] : cases) {
    INFO(accept);
    const RawResponse response = get(lb.port(), "/json", {{"Accept-Encoding", accept}});
    CHECK(response.status == 200);
    CHECK(coding_of(response) == expected);
    if (*expected == '\0') CHECK(response.body == kJson);
  }
}

// What must pass as the backend sent it, with a client that accepts
// everything: HEAD, 204, 304, 206, a Range request, a body already encoded
// (never twice), a type that is not text, a body under the minimum, and
// Cache-Control: no-transform from either side; an HTTP/1.0 client too.
TEST_CASE("compression: the responses that pass untouched", "[integration][compression]") {
  Backends backends;
  TempFile config("untouched.json", backends.config());
  LoadBalancerProcess lb({}, {"--config", config.path, "--compress"});
  const HeaderList all{{"Accept-Encoding", "zstd, br, gzip"}};
  auto untouched = [&](const std::string& path, const HeaderList& extra, const std::string& method = "GET") {
    HeaderList headers = all;
    headers.insert(headers.end(), extra.begin(), extra.end());
    return get(lb.port(), path, headers, method);
  };

  RawResponse head = untouched("/json", {}, "HEAD");
  CHECK(head.status == 200);
  CHECK(coding_of(head).empty());
  CHECK(head.header("Content-Length") == std::to_string(kJson.size()));
  CHECK(head.header("ETag") == "\"v1\"");

  RawResponse no_content = untouched("/no-content", {});
  CHECK(no_content.status == 204);
  CHECK(coding_of(no_content).empty());
  RawResponse not_modified = untouched("/not-modified", {{"If-None-Match", "\"v1\""}});
  CHECK(not_modified.status == 304);
  CHECK(coding_of(not_modified).empty());
  CHECK(not_modified.header("ETag") == "\"v1\"");
  RawResponse partial = untouched("/partial", {});
  CHECK(partial.status == 206);
  CHECK(coding_of(partial).empty());
  CHECK(partial.body == kJson.substr(0, 2000));
  RawResponse ranged = untouched("/json", {{"Range", "bytes=0-99"}});  // the backend ignores Range here
  CHECK(coding_of(ranged).empty());
  CHECK(ranged.body == kJson);

  RawResponse encoded = untouched("/encoded", {});
  CHECK(encoded.headers_named("Content-Encoding") == std::vector<std::string>{"gzip"});
  CHECK(encoded.body == std::string(3000, 'z'));
  CHECK(encoded.header("Content-Length") == "3000");
  RawResponse png = untouched("/png", {});
  CHECK(coding_of(png).empty());
  CHECK(png.body == std::string(5000, 'p'));
  RawResponse small = untouched("/small", {});
  CHECK(coding_of(small).empty());
  CHECK(small.header("Content-Length") == "1023");

  RawResponse asked = untouched("/json", {{"Cache-Control", "no-transform"}});
  CHECK(coding_of(asked).empty());
  CHECK(asked.body == kJson);
  RawResponse told = untouched("/no-transform", {});
  CHECK(coding_of(told).empty());
  CHECK(told.body == kJson);
  CHECK(told.header("ETag") == "\"v1\"");

  const RawResponse http10 = http_request(lb.port(), "GET /json HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n");
  CHECK(coding_of(http10).empty());
  CHECK(http10.body == kJson);

  // And the same load balancer does compress the ordinary case.
  CHECK(coding_of(untouched("/json", {})) == "zstd");
}

// HTTP/2 over TLS: the same codings, decoded by curl; no content-length.
TEST_CASE("compression: HTTP/2 with curl", "[integration][compression][http2]") {
  Backends backends;
  TempFile config("h2.json", backends.config());
  const auto& certs = test_certificates();
  LoadBalancerProcess lb({}, {"--config", config.path, "--compress", "--tls-cert", certs.path("server.crt"),
                              "--tls-key", certs.path("server.key")});
  const std::string curl = "curl -sS --http2 --max-time 30 --cacert " + certs.path("ca.crt") + " ";
  const std::string base = "https://localhost:" + std::to_string(lb.port());
  for (const auto& [coding, decoder] : kDecoders) {
    INFO(coding);
    TempFile out("h2_body"), head("h2_head");
    const std::string accept = std::string("-H 'Accept-Encoding: ") + coding + "' ";
    auto [status, version] = shell(curl + "--compressed " + accept + "-D " + head.path + " -o " + out.path +
                                   " -w '%{http_version}' " + base + "/html");
    REQUIRE(status == 0);
    CHECK(version == "2");
    CHECK(out.read() == kHtml);
    const std::string fields = head.read();
    CHECK_THAT(fields, Catch::Contains(std::string("content-encoding: ") + coding + "\r\n"));
    CHECK_THAT(fields, !Catch::Contains("content-length"));
    auto [tool_status, decoded] = shell(curl + accept + base + "/json | " + decoder);
    CHECK(tool_status == 0);
    CHECK(decoded == kJson);
  }
  TempFile head("h2_head_only");
  auto [status, ignored] = shell(curl + "-I -H 'Accept-Encoding: gzip' -o " + head.path + " " + base + "/json");
  CHECK(status == 0);
  CHECK_THAT(head.read(), !Catch::Contains("content-encoding"));
  CHECK_THAT(head.read(), Catch::Contains("content-length: " + std::to_string(kJson.size())));
}

// A route's "compress" turns it on without --compress, or off with it.
TEST_CASE("compression: per route in the config file", "[integration][compression][config]") {
  Backends backends;
  const HeaderList gzip{{"Accept-Encoding", "gzip"}};
  TempFile on("route_on.json", backends.config({{"/json", "\"compress\": true"}}));
  LoadBalancerProcess only_json({}, {"--config", on.path});
  CHECK(coding_of(get(only_json.port(), "/json", gzip)) == "gzip");
  CHECK(coding_of(get(only_json.port(), "/html", gzip)).empty());

  TempFile off("route_off.json", backends.config({{"/json", "\"compress\": false"}}));
  LoadBalancerProcess all_but_json({}, {"--config", off.path, "--compress"});
  CHECK(coding_of(get(all_but_json.port(), "/json", gzip)).empty());
  CHECK(coding_of(get(all_but_json.port(), "/html", gzip)) == "gzip");
}

// --check prints the settings; bad values are one line and exit 2.
TEST_CASE("compression: --check and bad settings", "[integration][compression][config]") {
  auto [ok, plan] = run_load_balancer_to_exit({"--check", "-b", "http://127.0.0.1:1", "--compress",
                                               "--compress-min-size", "2048"});
  CHECK(ok == 0);
  CHECK_THAT(plan, Catch::Contains("compress   on: zstd 3, br 3, gzip 4, as Accept-Encoding prefers; textual types from 2048 bytes"));
  for (const char* value : {"-1", "abc", "1e3"}) {  // CLI11 alone would wrap -1 round to 2^64-1
    auto [bad, message] = run_load_balancer_to_exit({"--check", "-b", "http://127.0.0.1:1", "--compress-min-size", value});
    CHECK(bad == 2);
    CHECK_THAT(message, Catch::Contains("--compress-min-size: expected a number of bytes"));
  }
  Backends backends;
  TempFile config("bad_route.json", backends.config({{"/json", "\"compress\": \"yes\""}}));
  auto [bad_route, route_message] = run_load_balancer_to_exit({"--check", "--config", config.path});
  CHECK(bad_route == 2);
  CHECK_THAT(route_message, Catch::Contains("routes[") && Catch::Contains("compress': expected true or false"));
}

// A 1 GB text body, compressed as it streams: the load balancer's peak
// resident memory grows by a few MB (the encoder's window and buffers), not
// by the body; each coding's tool decodes all of it.
TEST_CASE("compression: a 1 GB body in bounded memory", "[integration][compression][large]") {
  const uint64_t size = 1000ull * 1000 * 1000;
  TextStreamBackend backend(size);
  LoadBalancerProcess lb({backend.url()}, {"--compress"});
  const std::string url = "http://127.0.0.1:" + std::to_string(lb.port()) + "/big";
  const long before = lb.peak_rss_kib();
  REQUIRE(before > 0);
  for (const auto& [coding, decoder] : kDecoders) {
    INFO(coding);
    auto [status, output] = shell(std::string("curl -sS --max-time 200 -H 'Accept-Encoding: ") + coding + "' " + url +
                                  " | " + decoder + " | wc -c");
    CHECK(status == 0);
    CHECK(output == std::to_string(size) + "\n");
    const long growth = lb.peak_rss_kib() - before;
    WARN(coding << ": 1 GB compressed, peak RSS " << before << " KiB before, " << growth << " KiB more after");
#ifndef __SANITIZE_ADDRESS__
    // Not under AddressSanitizer: its quarantine keeps freed blocks (up to
    // 256 MB), so RSS follows the bytes ever allocated, not those held.
    CHECK(growth < 32 * 1024);
#endif
  }
  // The bytes, not only their count: the first MB decoded is the backend's first MB.
  TempFile prefix("prefix");
  shell("curl -sS -H 'Accept-Encoding: zstd' " + url + " | zstd -dc | head -c 1000000 > " + prefix.path);
  CHECK(prefix.read() == TextStreamBackend::body_prefix(1000000));
}

namespace {

// A backend that sends a response head and its first event, then holds the
// rest until `release` (server-sent events, a long poll).
struct SlowEvents {
  std::atomic<bool> release{false};
  int port = 0;
  int listen_fd = listen_loopback(port, "SlowEvents");
  std::vector<std::thread> connections;
  std::thread acceptor{[this] {
    for (int served = 0; served < 4;) {
      pollfd ready{listen_fd, POLLIN, 0};
      if (release || ::poll(&ready, 1, 100) <= 0) {
        if (release) return;
        continue;
      }
      const int fd = ::accept(listen_fd, nullptr, nullptr);
      if (fd >= 0) connections.emplace_back([this, fd] { serve(fd); }), ++served;
    }
  }};
  ~SlowEvents() {
    release = true;
    acceptor.join();
    for (auto& connection : connections) connection.join();
    ::close(listen_fd);
  }
  void serve(int fd) {
    std::string request;
    char buffer[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      request.append(buffer, static_cast<size_t>(n));
    }
    if (request.rfind("GET /health ", 0) == 0) {
      send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    } else if (!request.empty()) {
      send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "d\r\ndata: first\n\n\r\n");
      for (int i = 0; i < 100 && !release; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      send_all(fd, "e\r\ndata: second\n\n\r\n0\r\n\r\n");
    }
    ::close(fd);
  }
};

// The bytes of the complete chunks of a chunked response read so far.
std::string complete_chunks(const std::string& response) {
  std::string body;
  size_t at = response.find("\r\n\r\n");
  if (at == std::string::npos) return body;
  for (at += 4;;) {
    const size_t size_end = response.find("\r\n", at);
    if (size_end == std::string::npos) return body;
    const size_t size = std::stoul(response.substr(at, size_end - at), nullptr, 16);
    if (size == 0 || response.size() < size_end + 2 + size + 2) return body;
    body += response.substr(size_end + 2, size);
    at = size_end + 2 + size + 2;
  }
}

}  // namespace

// A body that comes slowly reaches the client as it comes: the first event,
// compressed, decodes on its own while the backend holds the second; then
// the second and the gzip trailer, and the last chunk.
TEST_CASE("compression: a slow stream is flushed as it comes", "[integration][compression]") {
  SlowEvents backend;
  LoadBalancerProcess lb({"http://127.0.0.1:" + std::to_string(backend.port)}, {"--compress"});
  ScopedFd client(connect_to(lb.port()));
  send_all(client.get(), build_request("GET", "/events", {{"Accept-Encoding", "gzip"}}));
  std::string received, decoded;
  char buffer[4096];
  for (int waited = 0; waited < 40 && decoded.empty(); ++waited) {  // up to 2 s; the backend holds 5
    pollfd ready{client.get(), POLLIN, 0};
    if (::poll(&ready, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(client.get(), buffer, sizeof buffer, 0);
    REQUIRE(n > 0);
    received.append(buffer, static_cast<size_t>(n));
    decoded = decode_gzip(complete_chunks(received));
  }
  CHECK_THAT(received, Catch::Contains("Content-Encoding: gzip\r\n"));
  CHECK(decoded == "data: first\n\n");
  backend.release = true;
  // Then the rest, and the last chunk: the stream ends whole.
  for (int waited = 0; waited < 100 && received.find("\r\n0\r\n\r\n") == std::string::npos; ++waited) {
    pollfd ready{client.get(), POLLIN, 0};
    if (::poll(&ready, 1, 50) <= 0) continue;
    const ssize_t n = ::recv(client.get(), buffer, sizeof buffer, 0);
    REQUIRE(n > 0);
    received.append(buffer, static_cast<size_t>(n));
  }
  bool complete = false;
  CHECK(decode_gzip(complete_chunks(received), &complete) == "data: first\n\ndata: second\n\n");
  CHECK(complete);
}
