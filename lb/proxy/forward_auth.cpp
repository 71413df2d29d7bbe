#include "lb/proxy/forward_auth.h"

#include <algorithm>

#include "lb/http/http_headers.h"
#include "lb/http/http_message_parser.h"
#include "lb/http/message_rules.h"

namespace lb {

namespace {

constexpr size_t kMaxHeadBytes = 32 * 1024;
constexpr size_t kReadBytes = 16 * 1024;

// Fields the subrequest never copies from the client: ours replace them, or
// they frame a body the subrequest does not have.
bool replaced_field(std::string_view name) {
  for (std::string_view own : {"host", "content-length", "transfer-encoding", "expect", "x-forwarded-method",
                               "x-forwarded-uri", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-for"}) {
    if (iequals(name, own)) return true;
  }
  return false;
}

// Keeps the body of a refusal (bounded) and drops a 2xx's.
class BodyKeeper : public BodySink {
 public:
  explicit BodyKeeper(std::string& out) : out_(out) {}
  bool on_body(const char* data, size_t len) override {
    if (out_.size() + len > ForwardAuthAnswer::kMaxBody) return false;
    out_.append(data, len);
    return true;
  }

 private:
  std::string& out_;
};

// One try on `connection`. `fresh`: a new connection (a pooled one that
// fails before any byte may be stale: the caller tries a new one).
ForwardAuthAnswer ask_on(Stream& connection, const std::string& head, Millis timeout, bool& reusable,
                         bool& no_byte) {
  ForwardAuthAnswer answer;
  reusable = false;
  no_byte = true;
  if (!connection.write_all(head.data(), head.size(), timeout)) {
    answer.problem = "write failed";
    return answer;
  }
  MessageParser parser(HTTP_RESPONSE, kMaxHeadBytes);
  parser.reset(false);
  BodyKeeper keeper(answer.body);
  parser.set_body_sink(&keeper);
  std::string buffer(kReadBytes, '\0');
  while (parser.phase() != MessageParser::Phase::Done) {
    const ssize_t n = connection.read(buffer.data(), buffer.size(), timeout);
    if (n == kEof && !no_byte) parser.feed_eof();
    if (n <= 0 && parser.phase() != MessageParser::Phase::Done) {
      answer.problem = n == kTimeout ? "timeout" : no_byte ? "connection closed" : "connection closed mid-answer";
      return answer;
    }
    if (n <= 0) break;
    no_byte = false;
    size_t used = 0;
    while (used < static_cast<size_t>(n) && parser.phase() != MessageParser::Phase::Done &&
           parser.phase() != MessageParser::Phase::Error) {
      used += parser.feed(buffer.data() + used, static_cast<size_t>(n) - used);
    }
    if (parser.phase() == MessageParser::Phase::Error) {
      answer.problem = std::string("invalid answer: ") + parser.error_text();
      return answer;
    }
    if (parser.phase() == MessageParser::Phase::Done && used != static_cast<size_t>(n)) {
      answer.problem = "bytes after the answer";
      return answer;
    }
  }
  answer.head = parser.head();
  if (const std::string problem = check_response_head(answer.head); !problem.empty()) {
    answer.problem = "invalid answer: " + problem;
    return answer;
  }
  const int status = answer.head.status;
  if (status < 200) {
    answer.problem = "interim answer " + std::to_string(status);
    return answer;
  }
  reusable = answer.head.keep_alive && !parser.close_delimited();
  answer.kind = status < 300 ? ForwardAuthAnswer::Kind::Allowed : ForwardAuthAnswer::Kind::Refused;
  if (answer.kind == ForwardAuthAnswer::Kind::Allowed) answer.body.clear();
  return answer;
}

}  // namespace

std::string forward_auth_head(const ForwardAuthTarget& target, const ForwardAuthQuestion& question) {
  const MessageHead& request = question.request;
  std::string head = "GET " + target.target + " HTTP/1.1\r\n";
  append_header(head, "Host", target.host_header);
  const std::string connection = connection_tokens(request);
  std::string forwarded_for;
  for (size_t i = 0; i < request.fields.size(); ++i) {
    const std::string_view name = request.name(i);
    if (iequals(name, "x-forwarded-for")) {
      forwarded_for.append(forwarded_for.empty() ? "" : ", ").append(request.value(i));
      continue;
    }
    if (is_hop_by_hop(name, connection) || replaced_field(name)) continue;
    append_header(head, name, request.value(i));
  }
  append_header(head, "X-Forwarded-Method", request.view(request.method));
  append_header(head, "X-Forwarded-Proto", question.forwarded_proto);
  append_header(head, "X-Forwarded-Host", request_host(request));
  append_header(head, "X-Forwarded-Uri", request.view(request.target));
  forwarded_for.append(forwarded_for.empty() ? "" : ", ").append(question.client_ip);
  append_header(head, "X-Forwarded-For", forwarded_for);
  head.append("\r\n");
  return head;
}

ForwardAuthAnswer ask_forward_auth(ForwardAuthTarget& target, const ForwardAuthQuestion& question) {
  const std::string head = forward_auth_head(target, question);
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Stream> connection = attempt == 0 ? target.idle.acquire() : nullptr;
    const bool pooled = connection != nullptr;
    if (!connection) {
      std::string error;
      bool timed_out = false;
      connection = connect_tcp(target.host, target.port, std::min(question.connect_timeout, target.timeout), error,
                               timed_out);
      if (!connection) {
        ForwardAuthAnswer failed;
        failed.problem = error;
        return failed;
      }
    }
    bool reusable = false;
    bool no_byte = true;
    ForwardAuthAnswer answer = ask_on(*connection, head, target.timeout, reusable, no_byte);
    const bool stale = answer.kind == ForwardAuthAnswer::Kind::Unavailable && pooled && no_byte && answer.problem != "timeout";
    if (stale) continue;  // closed while idle: once more on a new connection
    if (reusable) target.idle.release(std::move(connection));
    return answer;
  }
  return {};
}

}  // namespace lb
