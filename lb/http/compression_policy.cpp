#include "lb/http/compression_policy.h"

#include "lb/http/http_headers.h"

namespace lb {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && iequals(text.substr(text.size() - suffix.size()), suffix);
}

bool has_field(const MessageHead& head, std::string_view name) {
  bool found = false;
  find_header(head, name, &found);
  return found;
}

// Cache-Control: no-transform in any of the head's Cache-Control fields
// (RFC 9111 5.2.1.6, 5.2.2.6: a proxy must not change the content).
bool forbids_transform(const MessageHead& head) {
  for (size_t i = 0; i < head.fields.size(); ++i) {
    if (iequals(head.name(i), "cache-control") && header_list_contains(head.value(i), "no-transform")) return true;
  }
  return false;
}

bool status_passes_untouched(int status) {
  return status / 100 == 1 || status == 204 || status == 304 || status == 206;
}

}  // namespace

bool is_compressible_type(std::string_view type) {
  const std::string_view media = common::trim_ows(type.substr(0, type.find(';')));
  if (starts_with(media, "text/")) return media.size() > 5;
  if (ends_with(media, "+json") || ends_with(media, "+xml")) return media.find('/') != std::string_view::npos;
  for (const std::string_view known : {"application/json", "application/javascript", "application/x-javascript",
                                       "application/ecmascript", "application/xml", "application/wasm"}) {
    if (iequals(media, known)) return true;
  }
  return false;
}

ContentCoding compression_for(const MessageHead& request, const MessageHead& response, uint64_t min_size) {
  // An HTTP/1.0 client would get a close-delimited body instead of a
  // length and lose its keep-alive: like nginx (gzip_http_version 1.1), it
  // gets the body as it is.
  if (request.http_major == 1 && request.http_minor == 0) return ContentCoding::Identity;
  if (request.view(request.method) == "HEAD" || has_field(request, "range")) return ContentCoding::Identity;
  if (status_passes_untouched(response.status)) return ContentCoding::Identity;
  if (has_field(response, "content-encoding")) return ContentCoding::Identity;
  bool typed = false;
  const std::string_view type = find_header(response, "content-type", &typed);
  if (!typed || !is_compressible_type(type)) return ContentCoding::Identity;
  if (response.content_length != kNoContentLength && response.content_length < min_size) {
    return ContentCoding::Identity;
  }
  if (forbids_transform(request) || forbids_transform(response)) return ContentCoding::Identity;
  return choose_coding(request);
}

}  // namespace lb
