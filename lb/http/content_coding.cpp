#include "lb/http/content_coding.h"

#include <array>
#include <string>

#include "lb/http/http_headers.h"

namespace lb {

namespace {

constexpr std::array<ContentCoding, 3> kOurs{ContentCoding::Zstd, ContentCoding::Brotli, ContentCoding::Gzip};
constexpr int kUnset = -1;

// A qvalue (RFC 9110 12.4.2: "0" to "1" with up to three decimals) in
// thousandths, or kUnset when it does not parse.
int parse_qvalue(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text[0] != '0' && text[0] != '1')) return kUnset;
  int value = (text[0] - '0') * 1000;
  if (text.size() == 1) return value;
  if (text[1] != '.') return kUnset;
  int scale = 100;
  for (size_t i = 2; i < text.size(); ++i, scale /= 10) {
    if (text[i] < '0' || text[i] > '9') return kUnset;
    value += (text[i] - '0') * scale;
  }
  return value <= 1000 ? value : kUnset;
}

// One list element, "coding;q=0.5": its coding and q-value (1000 when none
// is given, kUnset when one is given but does not parse).
int element_weight(std::string_view element, std::string_view& coding) {
  const size_t semicolon = element.find(';');
  coding = common::trim_ows(element.substr(0, semicolon));
  int weight = 1000;
  std::string_view rest = semicolon == std::string_view::npos ? std::string_view() : element.substr(semicolon + 1);
  while (!rest.empty()) {
    const size_t next = rest.find(';');
    const std::string_view param = common::trim_ows(rest.substr(0, next));
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
      weight = parse_qvalue(common::trim_ows(param.substr(2)));
    }
  }
  return weight;
}

bool names(std::string_view token, ContentCoding coding) {
  if (iequals(token, coding_name(coding))) return true;
  return coding == ContentCoding::Gzip && iequals(token, "x-gzip");  // RFC 9110 8.4.1.3
}

}  // namespace

std::string_view coding_name(ContentCoding coding) {
  switch (coding) {
    case ContentCoding::Zstd: return "zstd";
    case ContentCoding::Brotli: return "br";
    case ContentCoding::Gzip: return "gzip";
    case ContentCoding::Identity: break;
  }
  return "identity";
}

ContentCoding choose_coding(std::string_view accept_encoding) {
  std::array<int, kOurs.size()> weight{kUnset, kUnset, kUnset};
  int star = kUnset;
  std::string_view rest = accept_encoding;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view element = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    std::string_view token;
    int q = element_weight(element, token);
    if (q == kUnset) q = 0;  // a q-value we cannot read refuses rather than guesses
    if (token == "*") star = q;
    for (size_t i = 0; i < kOurs.size(); ++i) {
      if (names(token, kOurs[i])) weight[i] = q;
    }
  }
  ContentCoding best = ContentCoding::Identity;
  int best_weight = 0;
  for (size_t i = 0; i < kOurs.size(); ++i) {
    const int q = weight[i] != kUnset ? weight[i] : (star != kUnset ? star : 0);
    if (q > best_weight) {  // strictly greater: a tie keeps the earlier coding
      best = kOurs[i];
      best_weight = q;
    }
  }
  return best;
}

ContentCoding choose_coding(const MessageHead& request) {
  std::string joined;
  for (size_t i = 0; i < request.fields.size(); ++i) {
    if (!iequals(request.name(i), "accept-encoding")) continue;
    if (!joined.empty()) joined.push_back(',');
    joined.append(request.value(i));
  }
  return choose_coding(joined);
}

}  // namespace lb
