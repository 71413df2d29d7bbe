// A minimal HTTP/2 client over plain TCP (prior knowledge, for --h2c), on
// nghttp2, for what curl and nghttp will not send or show: a forbidden
// header, a flood of resets, request trailers, the exact trailer fields.
//
//   test_support::H2Client client(lb.port());
//   int32_t id = client.get("/");
//   REQUIRE(client.run_until([&] { return client.responses[id].closed; }));
//   CHECK(client.responses[id].status == 200);
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "test/support/raw_http.h"

namespace test_support {

class H2Client {
 public:
  struct Response {
    int status = 0;
    HeaderList headers;   // the response's fields, pseudo-headers left out
    std::string body;
    HeaderList trailers;  // fields of a HEADERS frame after the response's first
    bool closed = false;
    uint32_t error = 0;   // RST_STREAM code, 0 when it ended normally
  };

  explicit H2Client(int port);
  ~H2Client();
  H2Client(const H2Client&) = delete;
  H2Client& operator=(const H2Client&) = delete;

  // Queues a GET of `path` with `extra` fields; returns the stream id.
  int32_t get(const std::string& path, const HeaderList& extra = {});
  // Queues a POST of `body` (no content-length), then `trailers` in a HEADERS
  // frame that ends the stream (or END_STREAM on the last DATA when none).
  int32_t post(const std::string& path, const std::string& body, const HeaderList& trailers = {});
  void cancel(int32_t id);
  // Sends what is queued now; false once the server has closed.
  bool flush();
  // Exchanges frames until `done()` holds, the server closes, or 10 s pass; true if `done()`.
  bool run_until(const std::function<bool()>& done);

  std::map<int32_t, Response> responses;
  int64_t goaway = -1;  // the GOAWAY error code, once one came
  int32_t goaway_last_stream = -1;  // the last stream id that GOAWAY says the server processes
  bool server_closed = false;

 private:
  struct Upload {  // a request body being sent
    std::string body;
    size_t sent = 0;
    HeaderList trailers;
  };
  int32_t submit(const std::string& method, const std::string& path, const HeaderList& extra, Upload* upload);
  static ssize_t read_upload(nghttp2_session*, int32_t id, uint8_t* buf, size_t length, uint32_t* flags,
                             nghttp2_data_source* source, void* self);

  ScopedFd fd_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, Upload> uploads_;  // by stream id
};

}  // namespace test_support
