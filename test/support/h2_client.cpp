#include "test/support/h2_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string_view>
#include <vector>

namespace test_support {

namespace {

std::string text(const uint8_t* bytes, size_t length) { return std::string(reinterpret_cast<const char*>(bytes), length); }

// nghttp2's view of `fields`; it copies them before the call returns.
std::vector<nghttp2_nv> name_values(HeaderList& fields) {
  std::vector<nghttp2_nv> nva;
  for (auto& [name, value] : fields) {
    nva.push_back({reinterpret_cast<uint8_t*>(name.data()), reinterpret_cast<uint8_t*>(value.data()), name.size(),
                   value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  return nva;
}

}  // namespace

H2Client::H2Client(int port) : fd_(connect_to(port)) {
  nghttp2_session_callbacks* callbacks;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_header_callback(
      callbacks, [](nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t name_length,
                    const uint8_t* value, size_t value_length, uint8_t, void* self) {
        Response& response = static_cast<H2Client*>(self)->responses[frame->hd.stream_id];
        const std::string field = text(name, name_length);
        if (frame->headers.cat == NGHTTP2_HCAT_HEADERS) {
          response.trailers.emplace_back(field, text(value, value_length));
        } else if (field == ":status") {
          response.status = std::stoi(text(value, value_length));
        } else {
          response.headers.emplace_back(field, text(value, value_length));
        }
        return 0;
      });
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
      callbacks, [](nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t length, void* self) {
        static_cast<H2Client*>(self)->responses[id].body.append(reinterpret_cast<const char*>(data), length);
        return 0;
      });
  nghttp2_session_callbacks_set_on_stream_close_callback(
      callbacks, [](nghttp2_session*, int32_t id, uint32_t error, void* self) {
        auto& response = static_cast<H2Client*>(self)->responses[id];
        response.closed = true;
        response.error = error;
        return 0;
      });
  nghttp2_session_callbacks_set_on_frame_recv_callback(
      callbacks, [](nghttp2_session*, const nghttp2_frame* frame, void* self) {
        if (frame->hd.type == NGHTTP2_GOAWAY) {
          static_cast<H2Client*>(self)->goaway = frame->goaway.error_code;
          static_cast<H2Client*>(self)->goaway_last_stream = frame->goaway.last_stream_id;
        }
        return 0;
      });
  nghttp2_session_client_new(&session_, callbacks, this);
  nghttp2_session_callbacks_del(callbacks);
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
}

H2Client::~H2Client() { nghttp2_session_del(session_); }

int32_t H2Client::get(const std::string& path, const HeaderList& extra) { return submit("GET", path, extra, nullptr); }

int32_t H2Client::post(const std::string& path, const std::string& body, const HeaderList& trailers) {
  Upload upload{body, 0, trailers};
  return submit("POST", path, {}, &upload);
}

int32_t H2Client::submit(const std::string& method, const std::string& path, const HeaderList& extra,
                         Upload* upload) {
  HeaderList fields = {{":method", method}, {":scheme", "http"}, {":authority", "127.0.0.1"}, {":path", path}};
  fields.insert(fields.end(), extra.begin(), extra.end());
  std::vector<nghttp2_nv> nva = name_values(fields);
  nghttp2_data_provider provider;
  provider.read_callback = read_upload;
  provider.source.ptr = nullptr;  // read_upload() finds the upload by stream id
  const int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), upload ? &provider : nullptr,
                                            nullptr);
  if (upload && id > 0) uploads_[id] = std::move(*upload);
  return id;
}

ssize_t H2Client::read_upload(nghttp2_session* session, int32_t id, uint8_t* buf, size_t length, uint32_t* flags,
                              nghttp2_data_source*, void* self) {
  Upload& upload = static_cast<H2Client*>(self)->uploads_[id];
  const size_t n = std::min(length, upload.body.size() - upload.sent);
  std::memcpy(buf, upload.body.data() + upload.sent, n);
  upload.sent += n;
  if (upload.sent == upload.body.size()) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!upload.trailers.empty()) {
      std::vector<nghttp2_nv> nva = name_values(upload.trailers);
      if (nghttp2_submit_trailer(session, id, nva.data(), nva.size()) == 0) *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
  }
  return static_cast<ssize_t>(n);
}

void H2Client::cancel(int32_t id) { nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL); }

bool H2Client::flush() {
  const uint8_t* data;
  ssize_t n;
  while ((n = nghttp2_session_mem_send(session_, &data)) > 0) {
    if (::send(fd_.get(), data, static_cast<size_t>(n), MSG_NOSIGNAL) != n) return false;
  }
  return true;
}

bool H2Client::run_until(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!flush()) return done();
    if (done()) return true;
    struct pollfd pfd {
      fd_.get(), POLLIN, 0
    };
    if (::poll(&pfd, 1, 100) <= 0) continue;
    char buffer[16384];
    ssize_t got = ::recv(fd_.get(), buffer, sizeof buffer, 0);
    if (got <= 0) {
      server_closed = true;
      return done();
    }
    nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buffer), static_cast<size_t>(got));
  }
  return done();
}

}  // namespace test_support
