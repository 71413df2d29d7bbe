#include "lb/proxy/http2_connection.h"

#include <poll.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "common/thread_per_connection_queue.h"
#include "lb/proxy/http2_request_head.h"
#include "lb/proxy/http2_stream_client.h"

namespace lb {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int32_t kStreamWindow = 256 * 1024;  // per stream, each way: the memory a stream may hold
constexpr int32_t kConnectionWindow = 4 * 1024 * 1024;  // all streams' request bodies in flight together
constexpr size_t kReadBytes = 16 * 1024;
constexpr size_t kWriteBytes = 64 * 1024;      // frames gathered before a write
constexpr int kResetsPerSecond = 200;          // a client cancelling more than this is attacking (rapid reset)

// A HEADERS frame's name/value pairs, pointing into `fields` (nghttp2 copies them).
std::vector<nghttp2_nv> name_values(const Http2Fields& fields) {
  std::vector<nghttp2_nv> nva;
  nva.reserve(fields.size());
  for (const auto& [name, value] : fields) {
    nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                   reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
                   NGHTTP2_NV_FLAG_NONE});
  }
  return nva;
}

}  // namespace

// One stream as this thread sees it: the request head as HEADERS bring it,
// then the response as the worker hands it over and nghttp2 sends it.
struct Http2Connection::StreamState {
  int32_t id = 0;
  Http2RequestHead head;         // collected from the HEADERS frame
  TrailerFields trailers;        // the request's trailers, if a HEADERS frame ends it
  bool refused = false;          // reset by us: a connection-specific field, or a stop
  std::shared_ptr<Http2Stream> stream;  // once its head is complete
  bool worker_started = false;          // start_workers() has handed it to a worker
  Http2Response response;        // handed over by the worker, not yet sent
  size_t body_sent = 0;          // bytes of response.body already in DATA frames
  bool head_submitted = false;
  bool deferred = false;         // nghttp2 waits for body bytes: resume when they come
  bool trailers_submitted = false;
  bool worker_done = false;

  size_t body_left() const { return response.body.size() - body_sent; }
};

Http2Connection::Http2Connection(ProxyContext& context, std::unique_ptr<Stream> client, const char* forwarded_proto,
                                 std::string client_ip, std::string client_cert_subject)
    : context_(context),
      client_(std::move(client)),
      forwarded_proto_(forwarded_proto),
      client_ip_(std::move(client_ip)),
      client_cert_subject_(std::move(client_cert_subject)),
      live_{context.live.current(), context.live.generation()},
      settings_(live_.value->proxy),
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
  for (auto& [id, state] : streams_) {
    if (state->stream) state->stream->reset();  // its worker's I/O fails and it ends
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
    wake_->take_news();
    pump_responses();
    if (!flush()) return;
    // After the GOAWAY this turns false once the last stream served has ended.
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) return;
    if (!streams_.empty()) {
      idle_since = Clock::now();
    } else if (Clock::now() - idle_since > settings_.keepalive_timeout) {
      return;
    }
    if (!client_->has_buffered_input()) {
      struct pollfd waits[2] = {{client_->fd(), POLLIN, 0}, {wake_->fd(), POLLIN, 0}};
      // Asleep a second at most, to look at the idle and stop conditions; not at all with news waiting.
      const int ready = ::poll(waits, 2, wake_->ready_to_sleep() ? 1000 : 0);
      wake_->woke(waits[1].revents != 0);
      if (ready < 0 && errno != EINTR) return;
      if (!(waits[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    }
    ssize_t n = client_->read(buffer, sizeof buffer, Millis(1));
    if (n == kTimeout) continue;  // a partial TLS record: the rest comes
    if (n <= 0) return;           // the client left
    if (nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buffer), static_cast<size_t>(n)) < 0) {
      flush();  // nghttp2 queued a GOAWAY for the protocol error
      return;
    }
    start_workers();
    if (too_many_resets()) {
      common::log_line("[HTTP/2] " + client_ip_ + " resets streams faster than they finish: GOAWAY");
      nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
      flush();
      return;
    }
  }
}

// nghttp2 hands out a frame or so at a time: they are gathered and written
// together, so a response's HEADERS and DATA (and other streams' frames) leave
// in one TLS record and one send, not one each.
bool Http2Connection::flush() {
  for (;;) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) return false;
    if (n > 0) out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    if (out_.empty()) return true;
    if (n == 0 || out_.size() >= kWriteBytes) {
      if (!client_->write_all(out_.data(), out_.size(), settings_.client_timeout)) return false;
      out_.clear();
    }
  }
}

void Http2Connection::go_away() {
  if (going_away_) return;
  going_away_ = true;
  int32_t last_served = last_closed_started_;
  for (const auto& [id, state] : streams_) {
    if (state->refused) continue;  // already reset
    if (state->stream && !state->stream->refuse_unbegun()) {
      last_served = std::max(last_served, id);
    } else {
      state->refused = true;
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
  auto state = std::make_unique<StreamState>();
  state->id = frame->hd.stream_id;
  connection->streams_[state->id] = std::move(state);
  return 0;
}

int Http2Connection::on_header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name_bytes,
                               size_t name_length, const uint8_t* value_bytes, size_t value_length, uint8_t,
                               void* self) {
  auto* connection = static_cast<Http2Connection*>(self);
  auto found = connection->streams_.find(frame->hd.stream_id);
  if (found == connection->streams_.end()) return 0;  // a stream already closed
  StreamState& state = *found->second;
  const std::string_view name(reinterpret_cast<const char*>(name_bytes), name_length);
  const std::string_view value(reinterpret_cast<const char*>(value_bytes), value_length);
  bool allowed;
  if (frame->headers.cat == NGHTTP2_HCAT_HEADERS) {  // trailers: they end the body
    allowed = !is_connection_specific(name, value);
    if (allowed) append_field(state.trailers, name, value);  // the worker drops what must not be a trailer
  } else {
    allowed = state.head.add(name, value);
  }
  if (!allowed && !state.refused) {
    state.refused = true;
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, state.id, NGHTTP2_PROTOCOL_ERROR);
  }
  return 0;
}

int Http2Connection::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* self) {
  auto* connection = static_cast<Http2Connection*>(self);
  if (frame->hd.type == NGHTTP2_RST_STREAM) {
    ++connection->resets_in_window_;
    return 0;
  }
  auto found = connection->streams_.find(frame->hd.stream_id);
  if (found == connection->streams_.end()) return 0;
  StreamState& state = *found->second;
  const bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST && !state.refused) {
    if (connection->context_.registry.stopping()) {
      // Came with or after the stop: not served, and the client may send it again elsewhere.
      state.refused = true;
      nghttp2_submit_rst_stream(connection->session_, NGHTTP2_FLAG_NONE, state.id, NGHTTP2_REFUSED_STREAM);
      return 0;
    }
    connection->open_stream(state, /*body_follows=*/!end_stream);
  }
  if (end_stream && state.stream) state.stream->end_request(std::move(state.trailers));
  return 0;
}

int Http2Connection::on_data_chunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t length,
                                   void* self) {
  auto* connection = static_cast<Http2Connection*>(self);
  auto found = connection->streams_.find(stream_id);
  if (found == connection->streams_.end() || !found->second->stream) return 0;
  found->second->stream->push_body(reinterpret_cast<const char*>(data), length);
  return 0;
}

int Http2Connection::on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t, void* self) {
  auto* connection = static_cast<Http2Connection*>(self);
  auto found = connection->streams_.find(stream_id);
  if (found == connection->streams_.end()) return 0;
  if (found->second->stream) found->second->stream->reset();  // a worker still running gives up
  if (found->second->worker_started) {
    connection->last_closed_started_ = std::max(connection->last_closed_started_, stream_id);
  }
  connection->streams_.erase(found);
  return 0;
}

// The stream's head is complete: its Http2Stream takes body bytes from now
// on; a worker is started once the bytes read with it are all handled
// (start_workers()).
void Http2Connection::open_stream(StreamState& state, bool body_follows) {
  state.stream = std::make_shared<Http2Stream>(wake_);
  state.head.build(state.stream->request, body_follows);
  state.stream->head_too_large = state.head.bytes() > settings_.max_header_bytes;
  unstarted_.push_back(state.id);
}

// A worker for each stream opened by the last read, unless the client has
// already reset it (a rapid reset sends HEADERS and RST_STREAM together: no
// thread is woken, and no backend asked, for a stream that is gone).
void Http2Connection::start_workers() {
  // Settings, pools and routes change rarely (reload, admin API): loaded only then.
  live_.refresh(context_.live);
  topology_.refresh(context_.balancer);
  for (int32_t id : unstarted_) {
    auto found = streams_.find(id);
    if (found == streams_.end() || found->second->refused) continue;
    found->second->worker_started = true;
    context_.stream_workers->enqueue([&context = context_, stream = found->second->stream, proto = forwarded_proto_,
                                      client_ip = client_ip_, subject = client_cert_subject_, live = live_.value,
                                      topology = topology_.value] {
      if (stream->begin_work()) Http2StreamClient(context, stream, proto, client_ip, subject, live, topology).serve();
      stream->worker_done();
    });
  }
  unstarted_.clear();
}

void Http2Connection::pump_responses() {
  // pump_response() may close a stream (nghttp2 callbacks erase from streams_): walk over ids.
  pump_ids_.clear();
  for (const auto& [id, state] : streams_) {
    if (state->stream) pump_ids_.push_back(id);
  }
  for (int32_t id : pump_ids_) {
    auto found = streams_.find(id);
    if (found != streams_.end()) pump_response(*found->second);
  }
}

void Http2Connection::pump_response(StreamState& state) {
  const size_t consumed = state.stream->take_consumed();
  if (consumed > 0) nghttp2_session_consume(session_, state.id, consumed);
  // Take more only when the client has read what we hold: its window paces the worker.
  if (state.body_left() < static_cast<size_t>(kStreamWindow)) {
    if (state.body_sent > 0) {
      state.response.body.erase(0, state.body_sent);
      state.body_sent = 0;
    }
    state.worker_done = state.stream->collect(state.response);
  }
  if (state.refused) return;
  if (state.response.has_head && !state.head_submitted) submit_response_head(state);
  if (state.worker_done && !state.response.complete) {
    // The response broke off (or never came): this stream only.
    state.refused = true;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, state.id, NGHTTP2_INTERNAL_ERROR);
    return;
  }
  if (state.deferred && (state.body_left() > 0 || state.response.complete)) {
    state.deferred = false;
    nghttp2_session_resume_data(session_, state.id);
  }
}

void Http2Connection::submit_response_head(StreamState& state) {
  state.head_submitted = true;
  Http2Response& response = state.response;
  Http2Fields fields;
  fields.reserve(response.fields.size() + 1);
  fields.emplace_back(":status", std::to_string(response.status));
  for (auto& field : response.fields) fields.push_back(std::move(field));
  // A response already complete with trailers still needs the data provider: it sends them.
  const bool bodiless =
      response.bodiless || (response.complete && response.body.empty() && response.trailers.empty());
  nghttp2_data_provider body;
  body.source.ptr = &state;
  body.read_callback = read_response_body;
  const std::vector<nghttp2_nv> nva = name_values(fields);
  nghttp2_submit_response(session_, state.id, nva.data(), nva.size(), bodiless ? nullptr : &body);
}

// The response's trailers as a HEADERS frame that ends the stream (RFC 9113
// 8.1), from inside the data callback as nghttp2 asks; false when there are
// none, so the last DATA frame ends the stream instead.
bool Http2Connection::submit_trailers(nghttp2_session* session, StreamState& state) {
  state.trailers_submitted = true;
  if (state.response.trailers.empty()) return false;
  const std::vector<nghttp2_nv> nva = name_values(state.response.trailers);
  return nghttp2_submit_trailer(session, state.id, nva.data(), nva.size()) == 0;
}

ssize_t Http2Connection::read_response_body(nghttp2_session* session, int32_t, uint8_t* buf, size_t length,
                                            uint32_t* data_flags, nghttp2_data_source* source, void*) {
  auto* state = static_cast<StreamState*>(source->ptr);
  if (state->body_left() == 0 && !state->response.complete) {
    state->deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  const size_t n = std::min(length, state->body_left());
  std::memcpy(buf, state->response.body.data() + state->body_sent, n);
  state->body_sent += n;
  if (state->body_left() == 0 && state->response.complete) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    // With trailers, their HEADERS frame carries END_STREAM, not this DATA frame.
    if (!state->trailers_submitted && submit_trailers(session, *state)) {
      *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
  }
  return static_cast<ssize_t>(n);
}

}  // namespace lb
