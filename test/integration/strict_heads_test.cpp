// What is rejected (README "What is rejected, and why"), end to
// end: each refused request gets its status with a JSON error, its connection
// closed and nothing forwarded; a backend's bad head is a 502 and a failure.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "test/support/load_balancer_process.h"
#include "test/support/raw_http.h"
#include "test/support/recording_backend.h"

using namespace test_support;
using nlohmann::json;
using namespace std::string_literals;

namespace {

struct RefusedCase {
  std::string name;
  std::string bytes;
  int status;
};

// Sends `bytes` on a new connection; the answer must be `status` with a JSON
// error and Connection: close, then the connection must end.
void check_refused(int port, const RefusedCase& refused) {
  INFO(refused.name);
  ScopedFd fd(connect_to(port));
  send_all(fd.get(), refused.bytes);
  RawResponse response = read_response(fd.get());
  CHECK(response.status == refused.status);
  CHECK(response.header("Connection") == "close");
  CHECK(response.header("Content-Type").value_or("").find("application/json") == 0);
  CHECK(json::parse(response.body)["error"].is_string());
  CHECK(read_until_close(fd.get()).empty());
}

}  // namespace

// Every class of ambiguous request head is refused before any byte reaches a backend.
TEST_CASE("ambiguous request heads are refused and nothing is forwarded", "[integration][trust]") {
  RecordingBackend fake;
  LoadBalancerProcess lb({fake.url()});
  const std::string get = "GET / HTTP/1.1\r\nHost: a\r\n";
  const std::string post = "POST / HTTP/1.1\r\nHost: a\r\n";
  const std::vector<RefusedCase> cases = {
      {"NUL in a value", get + "X: a\0b\r\n\r\n"s, 400},
      {"bare CR in a value", get + "X: a\rb\r\n\r\n", 400},
      {"control byte in a value", get + "X: a\x01z\r\n\r\n", 400},
      {"control byte in a name", get + "X\x02Y: 1\r\n\r\n", 400},
      {"space before the colon", post + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400},
      {"two Host lines", get + "Host: b\r\n\r\n", 400},
      {"Host with @", "GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", 400},
      {"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
      {"no Host", "GET / HTTP/1.1\r\n\r\n", 400},
      {"tab in the target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"userinfo in an absolute target", "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"Content_Length", post + "Content_Length: 5\r\nContent-Length: 0\r\n\r\n", 400},
      {"Transfer_Encoding", post + "Transfer_Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
      {"chunked twice", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"chunked, chunked", post + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
      {"chunked not last", post + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400},
      {"gzip, chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
      {"gzip alone", post + "Transfer-Encoding: gzip\r\n\r\n", 501},
      {"folded Transfer-Encoding", post + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400},
      {"folded Host", "GET / HTTP/1.1\r\nHost:\r\n a\r\n\r\n", 400},
      {"CL and TE", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"TRACE with a body", "TRACE / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi", 400},
      {"CONNECT", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 405},
  };
  for (const RefusedCase& refused : cases) check_refused(lb.port(), refused);
  CHECK(fake.requests() == 0);
  CHECK(fake.received().empty());
  // Still serving.
  CHECK(http_request(lb.port(), build_request("GET", "/after")).status == 200);
}

// Debian's non-strict http-parser let a NUL through as a value's first byte,
// and a framing name with other characters between its letters was
// forwarded. Every byte of every field is checked, however TCP splits it.
TEST_CASE("NUL anywhere in a field and disguised framing names are refused", "[integration][trust]") {
  RecordingBackend fake;
  LoadBalancerProcess lb({fake.url()});
  const std::string get = "GET / HTTP/1.1\r\nHost: a\r\n";
  const std::string post = "POST / HTTP/1.1\r\nHost: a\r\n";
  const std::vector<RefusedCase> cases = {
      {"NUL as the value's first byte", get + "Some-Bad-Header: \0value\r\n\r\n"s, 400},
      {"NUL first, no whitespace", get + "Some-Bad-Header:\0value\r\n\r\n"s, 400},
      {"NUL in the middle of a value", get + "Some-Bad-Header: val\0ue\r\n\r\n"s, 400},
      {"NUL as the value's last byte", get + "Some-Bad-Header: value\0\r\n\r\n"s, 400},
      {"NUL in a name", get + "Some\0Bad-Header: value\r\n\r\n"s, 400},
      {"DEL as the value's first byte", get + "Some-Bad-Header: \x7fvalue\r\n\r\n", 400},
      {"Transfer---Encoding", post + "Transfer---Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
      {"Transfer___Encoding", post + "Transfer___Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
      {"TransferEncoding", post + "TransferEncoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
      {"Content_Length", post + "Content_Length: 5\r\n\r\nhello", 400},
      {"content.length", post + "content.length: 5\r\n\r\nhello", 400},
  };
  for (const RefusedCase& refused : cases) check_refused(lb.port(), refused);

  // The first-byte NUL again, one byte per write: no read split lets it through.
  const std::string split = get + "Some-Bad-Header: \0value\r\nX-After: 1\r\n\r\n"s;
  ScopedFd fd(connect_to(lb.port()));
  for (char c : split) send_all(fd.get(), std::string(1, c));
  RawResponse response = read_response(fd.get());
  CHECK(response.status == 400);
  CHECK(response.header("Connection") == "close");
  CHECK(read_until_close(fd.get()).empty());

  CHECK(fake.requests() == 0);
  CHECK(fake.received().empty());
  CHECK(http_request(lb.port(), build_request("GET", "/after")).status == 200);
}

// A folded line in an ordinary header is joined with a space; the Host of an
// absolute-form target is its authority; bodies on GET ask the backend to close.
TEST_CASE("what the backend receives for folds, absolute targets and risky bodies", "[integration][trust]") {
  RecordingBackend fake;
  LoadBalancerProcess lb({fake.url()});
  CHECK(http_request(lb.port(), "GET /fold HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n\r\n").status == 200);
  CHECK(http_request(lb.port(), "GET http://real.example:81/abs HTTP/1.1\r\nHost: spoofed\r\n\r\n").status == 200);
  CHECK(http_request(lb.port(), "GET /body HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz").status == 200);
  CHECK(http_request(lb.port(), "POST /post HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz").status == 200);
  std::string seen = fake.received();
  CHECK(seen.find("X-Long: one two\r\n") != std::string::npos);
  CHECK(seen.find("GET http://real.example:81/abs HTTP/1.1\r\nHost: real.example:81\r\n") != std::string::npos);
  CHECK(seen.find("spoofed") == std::string::npos);
  size_t body_get = seen.find("GET /body ");
  size_t post = seen.find("POST /post ");
  REQUIRE(body_get != std::string::npos);
  REQUIRE(post != std::string::npos);
  std::string get_head = seen.substr(body_get, seen.find("\r\n\r\n", body_get) - body_get);
  std::string post_head = seen.substr(post, seen.find("\r\n\r\n", post) - post);
  CHECK(get_head.find("\r\nConnection: close") != std::string::npos);
  CHECK(post_head.find("Connection:") == std::string::npos);
}

// A backend whose head could be read two ways gets a 502 (JSON, connection
// closed) and is counted as failed; nothing of its answer reaches the client.
TEST_CASE("ambiguous response heads become 502", "[integration][trust]") {
  const std::vector<std::string> responses = {
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nsecret",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding : chunked\r\nContent-Length: 6\r\n\r\nsecret",
      "HTTP/1.1 200 OK\r\nContent_Length: 6\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n"s,
      "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Length: 6\r\n\r\nsecret",
      // a NUL as a value's first byte, framing names in disguise (README "What is rejected")
      "HTTP/1.1 200 OK\r\nSome-Bad-Header: \0secret\r\nContent-Length: 0\r\n\r\n"s,
      "HTTP/1.1 200 OK\r\nSome-Bad-Header:\0secret\r\nContent-Length: 0\r\n\r\n"s,
      "HTTP/1.1 200 OK\r\nTransfer---Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer___Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent.Length: 6\r\n\r\nsecret",
  };
  for (const std::string& bad : responses) {
    INFO(bad);
    RecordingBackend fake(bad);
    LoadBalancerProcess lb({fake.url()}, {"--admin-port", "0"});
    ScopedFd fd(connect_to(lb.port()));
    send_all(fd.get(), build_request("GET", "/"));
    RawResponse response = read_response(fd.get());
    CHECK(response.status == 502);
    CHECK(response.header("Connection") == "close");
    CHECK(json::parse(response.body)["error"].get<std::string>().find("invalid response from backend") == 0);
    CHECK(response.body.find("secret") == std::string::npos);
    CHECK(read_until_close(fd.get()).empty());
    RawResponse status = http_request(lb.admin_port(), build_request("GET", "/status"));
    CHECK(json::parse(status.body)["backends"][0]["failures"] == 1);
  }
}

namespace {

// A backend that refuses PURGE with 400 after its request line and answers
// the rest of the head late, as cpp-httplib does (one more response per line).
class LateSecondAnswerBackend {
 public:
  LateSecondAnswerBackend() {
    listen_fd_ = listen_loopback(port_, "LateSecondAnswerBackend");
    acceptor_ = std::thread([this] {
      for (;;) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0 || stopping_) break;
        std::thread([fd] { serve(fd); }).detach();  // each ends when its peer closes
      }
    });
  }
  ~LateSecondAnswerBackend() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  static void serve(int fd) {
    std::string pending;
    char buf[4096];
    for (;;) {
      size_t end = pending.find("\r\n\r\n");
      if (end == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        pending.append(buf, static_cast<size_t>(n));
        continue;
      }
      const bool purge = pending.compare(0, 6, "PURGE ") == 0;
      pending.erase(0, end + 4);
      if (purge) {
        send_all(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale");
      } else {
        send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh");
      }
    }
    ::close(fd);
  }
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
};

}  // namespace

// After a backend says it could not read our request (400 and the like), its
// connection is closed, never pooled: the next client gets its own answer,
// not the late answer to the rest of the refused request.
TEST_CASE("a connection the backend refused a request on is not reused", "[integration][trust]") {
  LateSecondAnswerBackend backend;
  LoadBalancerProcess lb({backend.url()});
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    CHECK(http_request(lb.port(), "PURGE /cache HTTP/1.1\r\nHost: a\r\nX-Line: 1\r\n\r\n").status == 400);
    RawResponse next = http_request(lb.port(), build_request("GET", "/"));
    CHECK(next.status == 200);
    CHECK(next.body == "fresh");
  }
}
