#include "lb/proxy/http2_connection.h"

#include <poll.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "common/thread_per_connection_queue.h"
#include "lb/http/http_headers.h"
#include "lb/proxy/proxy_connection.h"

namespace lb {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int32_t kStreamWindow = 256 * 1024;  // per stream, each way: the memory a stream may hold
constexpr int32_t kConnectionWindow = 4 * 1024 * 1024;  // all streams' request bodies in flight together
constexpr size_t kReadBytes = 16 * 1024;
constexpr int kResetsPerSecond = 200;          // a client cancelling more than this is attacking (rapid reset)

// RFC 9113 8.2.2: these mean nothing in HTTP/2, and would change framing if forwarded.
bool is_connection_specific(std::string_view name, std::string_view value) {
  for (const char* banned : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}) {
    if (name == banned) return true;
  }
  return name == "te" && value != "trailers";
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Names and values for one HEADERS frame, alive until nghttp2 has copied them.
// Values lose the whitespace around them, which HTTP/1.1 does not count as
// part of a value and HTTP/2 forbids there (RFC 9113 8.2.1).
struct HeaderBlock {
  std::vector<std::string> names, values;
  std::vector<nghttp2_nv> nva;

  void add(std::string name, std::string_view value) {
    names.push_back(std::move(name));
    values.emplace_back(common::trim_ows(value));
  }
  const nghttp2_nv* build() {
    nva.clear();
    for (size_t i = 0; i < names.size(); ++i) {
      nva.push_back({reinterpret_cast<uint8_t*>(names[i].data()), reinterpret_cast<uint8_t*>(values[i].data()),
                     names[i].size(), values[i].size(), NGHTTP2_NV_FLAG_NONE});
    }
    return nva.data();
  }
};

}  // namespace

// One stream as this thread sees it: the request as it is being read, the
// response as it is being written.
struct Http2Connection::Request : BodySink {
  int32_t id = 0;
  std::string method, path, authority, fields, cookies;
  std::string trailers;       // the request's trailer fields, as HTTP/1.1 lines for the last chunk
  bool has_length = false;    // the client gave content-length
  bool refused = false;       // a connection-specific header: the stream is reset
  bool body_chunked = false;  // the body goes to the worker chunk-framed
  std::shared_ptr<StreamPipe> pipe;
  MessageParser response{HTTP_RESPONSE, 1024 * 1024};
  std::string response_bytes;  // from the worker, not yet parsed
  std::string body;            // decoded, not yet sent
  bool head_submitted = false;
  bool body_complete = false;  // the worker's response has ended
  bool deferred = false;       // nghttp2 waits for body bytes: resume when they come
  bool trailers_submitted = false;
  bool worker_done = false;

  bool on_body(const char* data, size_t len) override {
    body.append(data, len);
    return true;
  }
};

Http2Connection::Http2Connection(ProxyContext& context, std::unique_ptr<Stream> client, const char* forwarded_proto,
                                 std::string client_ip)
    : context_(context),
      client_(std::move(client)),
      forwarded_proto_(forwarded_proto),
      client_ip_(std::move(client_ip)),
      settings_(context.live.current()->proxy),
      wake_(std::make_shared<WakeUp>()),
      reset_window_start_(Clock::now()) {
  nghttp2_session_callbacks* callbacks;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
  nghttp2_option* options;
  nghttp2_option_new(&options);
  nghttp2_option_set_no_auto_window_update(options, 1);  // the window opens as the worker takes bytes
  nghttp2_session_server_new2(&session_, callbacks, this, options);
  nghttp2_option_del(options);
  nghttp2_session_callbacks_del(callbacks);
  const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings_.h2_max_streams},
                                             {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow}};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, 2);
  // The connection's own window, for several streams' bodies at once.
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
}

Http2Connection::~Http2Connection() {
  for (auto& [id, request] : requests_) {
    if (request->pipe) request->pipe->reset();  // its worker's I/O fails and it ends
  }
  nghttp2_session_del(session_);
}

void Http2Connection::serve() {
  // With the wake-up fd, a stop wakes this thread (busy or idle) instead of shutting the socket.
  ConnectionRegistry::Slot slot(context_.registry, client_->fd(), wake_->fd());
  char buffer[kReadBytes];
  auto idle_since = Clock::now();
  for (;;) {
    if (context_.registry.stopping()) go_away();
    pump_responses();
    if (!flush()) return;
    // After the GOAWAY this turns false once the last stream served has ended.
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) return;
    if (!requests_.empty()) {
      idle_since = Clock::now();
    } else if (Clock::now() - idle_since > settings_.keepalive_timeout) {
      return;
    }
    if (!client_->has_buffered_input()) {
      struct pollfd waits[2] = {{client_->fd(), POLLIN, 0}, {wake_->fd(), POLLIN, 0}};
      int ready = ::poll(waits, 2, 1000);  // a second at most, to look at the idle and stop conditions
      if (ready < 0 && errno != EINTR) return;
      if (waits[1].revents) wake_->drain();
      if (!(waits[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    }
    ssize_t n = client_->read(buffer, sizeof buffer, Millis(1));
    if (n == kTimeout) continue;  // a partial TLS record: the rest comes
    if (n <= 0) return;           // the client left
    if (nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buffer), static_cast<size_t>(n)) < 0) {
      flush();  // nghttp2 queued a GOAWAY for the protocol error
      return;
    }
    if (too_many_resets()) {
      common::log_line("[HTTP/2] " + client_ip_ + " resets streams faster than they finish: GOAWAY");
      nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
      flush();
      return;
    }
  }
}

bool Http2Connection::flush() {
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) return false;
    if (n == 0) return true;
    if (!client_->write_all(reinterpret_cast<const char*>(data), static_cast<size_t>(n), settings_.client_timeout)) {
      return false;
    }
  }
}

void Http2Connection::go_away() {
  if (going_away_) return;
  going_away_ = true;
  int32_t last_served = last_closed_started_;
  for (const auto& [id, request] : requests_) {
    if (request->refused) continue;  // already reset
    if (request->pipe && !request->pipe->refuse_unbegun()) {
      last_served = std::max(last_served, id);
    } else {
      request->refused = true;
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
    }
  }
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, last_served, NGHTTP2_NO_ERROR, nullptr, 0);
}

bool Http2Connection::too_many_resets() {
  const auto now = Clock::now();
  if (now - reset_window_start_ > std::chrono::seconds(1)) {
    reset_window_start_ = now;
    resets_in_window_ = 0;
  }
  return resets_in_window_ > kResetsPerSecond;
}

int Http2Connection::on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* self) {
  auto* connection = static_cast<Http2Connection*>(self);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto request = std::make_unique<Request>();
  request->id = frame->hd.stream_id;
  request->response.set_body_sink(request.get());
  connection->requests_[request->id] = std::move(request);
  return 0;
}

int Http2Connection::on_header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name_bytes,
                               size_t name_length, const uint8_t* value_bytes, size_t value_length, uint8_t,
                               void* self) {
  auto* connection = static_cast<Http2Connection*>(self);
  auto found = connection->requests_.find(frame->hd.stream_id);
  if (found == connection->requests_.end()) return 0;  // a stream already closed
  Request& request = *found->second;
  const std::string_view name(reinterpret_cast<const char*>(name_bytes), name_length);
  const std::string_view value(reinterpret_cast<const char*>(value_bytes), value_length);
  if (frame->headers.cat == NGHTTP2_HCAT_HEADERS) {  // trailers: they end a chunked body (else they are lost)
    if (is_connection_specific(name, value)) {
      request.refused = true;
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, request.id, NGHTTP2_PROTOCOL_ERROR);
    } else if (request.body_chunked) {
      append_header(request.trailers, name, value);  // the worker drops what must not be a trailer
    }
  } else if (name == ":method") {
    request.method = value;
  } else if (name == ":path") {
    request.path = value;
  } else if (name == ":authority") {
    request.authority = value;
  } else if (name == ":scheme" || name == ":protocol") {
    // the scheme is ours to tell the backend (X-Forwarded-Proto)
  } else if (is_connection_specific(name, value)) {
    request.refused = true;
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, request.id, NGHTTP2_PROTOCOL_ERROR);
  } else if (name == "cookie") {
    // RFC 9113 8.2.3: the fields become one "; "-joined field for HTTP/1.1.
    if (!request.cookies.empty()) request.cookies += "; ";
    request.cookies.append(value);
  } else if (name == "host") {
    if (request.authority.empty()) request.authority = value;
  } else {
    if (name == "content-length") request.has_length = true;
    request.fields.append(name).append(": ").append(value).append("\r\n");
  }
  return 0;
}

int Http2Connection::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* self) {
  auto* connection = static_cast<Http2Connection*>(self);
  if (frame->hd.type == NGHTTP2_RST_STREAM) {
    ++connection->resets_in_window_;
    return 0;
  }
  auto found = connection->requests_.find(frame->hd.stream_id);
  if (found == connection->requests_.end()) return 0;
  Request& request = *found->second;
  const bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST && !request.refused) {
    if (connection->context_.registry.stopping()) {
      // Came with or after the stop: not served, and the client may send it again elsewhere.
      request.refused = true;
      nghttp2_submit_rst_stream(connection->session_, NGHTTP2_FLAG_NONE, request.id, NGHTTP2_REFUSED_STREAM);
      return 0;
    }
    request.body_chunked = !end_stream && !request.has_length;
    connection->start_worker(request);
  }
  if (end_stream && request.pipe) connection->end_request_body(request);
  return 0;
}

int Http2Connection::on_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t length,
                                   void* self) {
  auto* connection = static_cast<Http2Connection*>(self);
  auto found = connection->requests_.find(stream_id);
  if (found == connection->requests_.end() || !found->second->pipe) return 0;
  Request& request = *found->second;
  if (request.body_chunked) {
    char size[24];
    int n = std::snprintf(size, sizeof size, "%zx\r\n", length);
    request.pipe->push_request(size, static_cast<size_t>(n));
  }
  request.pipe->push_request(reinterpret_cast<const char*>(data), length);
  if (request.body_chunked) request.pipe->push_request("\r\n", 2);
  return 0;
}

int Http2Connection::on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t, void* self) {
  auto* connection = static_cast<Http2Connection*>(self);
  auto found = connection->requests_.find(stream_id);
  if (found == connection->requests_.end()) return 0;
  if (found->second->pipe) {
    found->second->pipe->reset();  // a worker still running gives up
    connection->last_closed_started_ = std::max(connection->last_closed_started_, stream_id);
  }
  connection->requests_.erase(found);
  return 0;
}

// The HTTP/1.1 request a worker reads: the HEADERS frame's fields under a request line.
void Http2Connection::start_worker(Request& request) {
  std::string head = request.method + " " + (request.path.empty() ? request.authority : request.path) + " HTTP/1.1\r\n";
  if (!request.authority.empty()) head.append("Host: ").append(request.authority).append("\r\n");
  head.append(request.fields);
  if (!request.cookies.empty()) head.append("Cookie: ").append(request.cookies).append("\r\n");
  if (request.body_chunked) head.append("Transfer-Encoding: chunked\r\n");
  head.append("Connection: close\r\n\r\n");  // one request per worker
  request.pipe = std::make_shared<StreamPipe>(wake_);
  request.pipe->push_request(head.data(), head.size());

  auto pipe = request.pipe;
  ProxyContext& context = context_;
  const char* proto = forwarded_proto_;
  std::string client_ip = client_ip_;
  context_.stream_workers->enqueue([&context, pipe, proto, client_ip] {
    if (pipe->begin_work()) {
      ProxyConnection worker(context, std::make_unique<PipeEnd>(pipe), proto, client_ip);
      worker.serve_stream();
    }
    pipe->worker_done();
  });
}

void Http2Connection::end_request_body(Request& request) {
  if (request.body_chunked) {
    const std::string last_chunk = "0\r\n" + request.trailers + "\r\n";
    request.pipe->push_request(last_chunk.data(), last_chunk.size());
  }
  request.pipe->end_request();
}

void Http2Connection::pump_responses() {
  // pump_response() may close a stream (nghttp2 callbacks erase from requests_): walk over ids.
  std::vector<int32_t> ids;
  for (const auto& [id, request] : requests_) ids.push_back(id);
  for (int32_t id : ids) {
    auto found = requests_.find(id);
    if (found != requests_.end() && found->second->pipe) pump_response(*found->second);
  }
}

void Http2Connection::pump_response(Request& request) {
  const size_t consumed = request.pipe->take_consumed();
  if (consumed > 0) nghttp2_session_consume(session_, request.id, consumed);
  // Take more only when the client has read what we hold: its window paces the worker.
  if (request.body.size() < static_cast<size_t>(kStreamWindow)) {
    request.worker_done = request.pipe->take_response(request.response_bytes);
  }
  size_t used = 0;
  while (used < request.response_bytes.size() && !request.body_complete) {
    used += request.response.feed(request.response_bytes.data() + used, request.response_bytes.size() - used);
    const MessageParser::Phase phase = request.response.phase();
    if (phase == MessageParser::Phase::Error) break;
    if (phase == MessageParser::Phase::Head) break;  // more bytes needed
    const MessageHead& head = request.response.head();
    if (head.status / 100 == 1) {  // 100 Continue and friends: HTTP/2 clients do without
      if (phase == MessageParser::Phase::Done) {
        request.response.reset();
        request.response.set_body_sink(&request);
      }
      continue;
    }
    if (!request.head_submitted) submit_response_head(request);
    if (phase == MessageParser::Phase::Done) request.body_complete = true;
  }
  request.response_bytes.erase(0, used);
  if (request.response.phase() == MessageParser::Phase::Error ||
      (request.worker_done && !request.body_complete && request.response_bytes.empty())) {
    // Our own HTTP/1.1 could not be read back, or the response broke off: this stream only.
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, request.id, NGHTTP2_INTERNAL_ERROR);
    return;
  }
  if (request.deferred && (!request.body.empty() || request.body_complete)) {
    request.deferred = false;
    nghttp2_session_resume_data(session_, request.id);
  }
}

void Http2Connection::submit_response_head(Request& request) {
  request.head_submitted = true;
  const MessageHead& head = request.response.head();
  const std::string connection = connection_tokens(head);
  HeaderBlock block;
  block.add(":status", std::to_string(head.status));
  for (size_t i = 0; i < head.fields.size(); ++i) {
    if (!is_hop_by_hop(head.name(i), connection)) block.add(lower(head.name(i)), head.value(i));
  }
  // A response already complete with trailers still needs the data provider: it sends them.
  const bool bodiless = request.method == "HEAD" || head.status == 204 || head.status == 304 ||
                        (request.response.phase() == MessageParser::Phase::Done && request.response.trailers().empty());
  nghttp2_data_provider body;
  body.source.ptr = &request;
  body.read_callback = read_response_body;
  const nghttp2_nv* nva = block.build();
  nghttp2_submit_response(session_, request.id, nva, block.names.size(), bodiless ? nullptr : &body);
}

// The response's trailers as a HEADERS frame that ends the stream (RFC 9113
// 8.1), from inside the data callback as nghttp2 asks; false when there are
// none to send (all dropped), so the last DATA frame ends the stream instead.
// The worker's BodyWriter already dropped what must not be a trailer; names
// are lowercased for HTTP/2.
bool Http2Connection::submit_trailers(nghttp2_session* session, Request& request) {
  request.trailers_submitted = true;
  const TrailerFields& trailers = request.response.trailers();
  HeaderBlock block;
  for (size_t i = 0; i < trailers.fields.size(); ++i) {
    if (!is_forbidden_trailer(trailers.name(i))) block.add(lower(trailers.name(i)), trailers.value(i));
  }
  if (block.names.empty()) return false;
  const nghttp2_nv* nva = block.build();
  return nghttp2_submit_trailer(session, request.id, nva, block.names.size()) == 0;
}

ssize_t Http2Connection::read_response_body(nghttp2_session* session, int32_t, uint8_t* buf, size_t length,
                                            uint32_t* data_flags, nghttp2_data_source* source, void*) {
  auto* request = static_cast<Request*>(source->ptr);
  if (request->body.empty() && !request->body_complete) {
    request->deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  const size_t n = std::min(length, request->body.size());
  std::memcpy(buf, request->body.data(), n);
  request->body.erase(0, n);
  if (request->body.empty() && request->body_complete) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    // With trailers, their HEADERS frame carries END_STREAM, not this DATA frame.
    if (!request->trailers_submitted && submit_trailers(session, *request)) {
      *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
  }
  return static_cast<ssize_t>(n);
}

}  // namespace lb
