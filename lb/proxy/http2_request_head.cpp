#include "lb/proxy/http2_request_head.h"

namespace lb {

bool is_connection_specific(std::string_view name, std::string_view value) {
  for (const char* banned : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}) {
    if (name == banned) return true;
  }
  return name == "te" && value != "trailers";
}

bool Http2RequestHead::add(std::string_view name, std::string_view value) {
  bytes_ += name.size() + value.size();
  if (name == ":method") {
    method_ = value;
  } else if (name == ":path") {
    path_ = value;
  } else if (name == ":authority") {
    authority_ = value;
  } else if (name == ":scheme" || name == ":protocol") {
    // the scheme is ours to tell the backend (X-Forwarded-Proto)
  } else if (is_connection_specific(name, value)) {
    return false;
  } else if (name == "cookie") {
    if (!cookies_.empty()) cookies_ += "; ";
    cookies_.append(value);
  } else if (name == "host") {
    host_ = value;  // :authority wins when both are given
  } else {
    fields_.emplace_back(name, value);
  }
  return true;
}

void Http2RequestHead::build(MessageHead& out, bool body_follows) const {
  out.clear();
  out.method = {0, static_cast<uint32_t>(method_.size())};
  out.arena.append(method_);
  const std::string& target = path_.empty() ? authority_ : path_;
  out.target = {static_cast<uint32_t>(out.arena.size()), static_cast<uint32_t>(target.size())};
  out.arena.append(target);
  out.http_major = 1;
  out.http_minor = 1;
  out.keep_alive = true;
  const std::string& host = authority_.empty() ? host_ : authority_;
  if (!host.empty()) append_field(out, "host", host);
  for (const auto& [name, value] : fields_) {
    append_field(out, name, value);
    if (name != "content-length") continue;
    uint64_t length = 0;  // nghttp2 has checked that it is a number and that the DATA agree with it
    for (char c : value) length = length * 10 + static_cast<uint64_t>(c - '0');
    out.content_length = length;
  }
  if (!cookies_.empty()) append_field(out, "cookie", cookies_);
  out.chunked = body_follows && out.content_length == kNoContentLength;
}

}  // namespace lb
