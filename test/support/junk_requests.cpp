#include "test/support/junk_requests.h"

#include "test/support/raw_http.h"

namespace test_support {

std::vector<std::string> junk_seeds() {
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  // Takes the next request sent on the same backend connection as its body.
  const std::string capture = "POST /capture HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n";
  auto body_on = [](const std::string& method, const std::string& payload) {
    return method + " /junk HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(payload.size()) + "\r\n\r\n" +
           payload;
  };
  const std::string post = "POST /junk HTTP/1.1\r\nHost: x\r\n";
  std::vector<std::string> seeds;
  for (const char* method : {"GET", "OPTIONS", "DELETE", "TRACE", "HEAD", "PURGE"}) {
    seeds.push_back(body_on(method, smuggled));
    seeds.push_back(body_on(method, capture));
  }
  seeds.push_back("OPTIONS * HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nPOST /p HT");
  seeds.push_back(post + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled);
  seeds.push_back(post + "Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n" + smuggled);
  seeds.push_back(post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" +
                  smuggled);
  seeds.push_back(post + "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + smuggled);
  seeds.push_back(post + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + smuggled);
  seeds.push_back(post + "Content_Length: " + std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled);
  seeds.push_back(post + "Transfer---Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + smuggled);
  seeds.push_back(post + "TransferEncoding: chunked\r\n\r\n0\r\n\r\n" + smuggled);
  seeds.push_back(post + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + smuggled);
  seeds.push_back(post + "Content-Length: 6\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + smuggled);
  seeds.push_back(post + "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n" + capture);
  seeds.push_back(post + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n" + smuggled);
  seeds.push_back(post + "Content-Length: 5\r\n\r\nhello" + capture);
  seeds.push_back("GET /junk HTTP/1.1\r\nHost: x\r\nContent-Length: 35\r\nContent-Length: 35\r\n\r\n" + smuggled);
  seeds.push_back("GET /junk HTTP/1.1\r\nHost: x\r\nContent-Length: +35\r\n\r\n" + smuggled);
  seeds.push_back("GET /junk HTTP/1.0\r\nContent-Length: 35\r\n\r\n" + smuggled);
  seeds.push_back("GET /junk HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 35\r\n\r\n" + smuggled);
  static const char nul_in_value[] = "GET /junk HTTP/1.1\r\nHost: x\r\nX-Nul: a\0b\r\n\r\n";
  seeds.push_back(std::string(nul_in_value, sizeof nul_in_value - 1) + smuggled);
  static const char nul_first_in_value[] = "GET /junk HTTP/1.1\r\nHost: x\r\nX-Nul: \0Content-Length: 35\r\n\r\n";
  seeds.push_back(std::string(nul_first_in_value, sizeof nul_first_in_value - 1) + smuggled);
  seeds.push_back("GET /junk HTTP/1.1\r\nHost: x\r\nX-Cr: a\rb\r\n\r\n" + smuggled);
  seeds.push_back("GET /junk HTTP/1.1\r\nHost: x\r\nX-Cr: a\rContent-Length: 35\r\n\r\n" + smuggled);
  seeds.push_back("GET /ju\tnk HTTP/1.1\r\nHost: x\r\n\r\n" + smuggled);
  seeds.push_back("GET /junk\t/smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
  seeds.push_back("GET /junk HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n" + smuggled);
  seeds.push_back("GET http://other.example/junk HTTP/1.1\r\nHost: x\r\n\r\n");
  seeds.push_back("GET http://127.0.0.1:1/junk HTTP/1.1\r\nHost: other\r\nContent-Length: 35\r\n\r\n" + smuggled);
  seeds.push_back(build_request("GET", "/junk/1") + build_request("GET", "/junk/2"));
  seeds.push_back(build_request("POST", "/junk/1", {}, "abc") + body_on("GET", smuggled));
  seeds.push_back(build_request("HEAD", "/junk/1") + body_on("OPTIONS", capture));
  return seeds;
}

void mutate(std::string& bytes, std::mt19937& rng) {
  static const std::vector<std::string> inserts = {"\r", "\n", std::string(1, '\0'), " ", ":", "\t", "\r\n"};
  const int changes = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < changes && !bytes.empty(); ++i) {
    const std::size_t pos = rng() % bytes.size();
    const std::size_t line_start = bytes.rfind('\n', pos) == std::string::npos ? 0 : bytes.rfind('\n', pos) + 1;
    const std::size_t newline = bytes.find('\n', pos);
    const std::size_t line_end = newline == std::string::npos ? bytes.size() : newline + 1;
    switch (rng() % 7) {
      case 0:
        bytes[pos] = static_cast<char>(bytes[pos] ^ (1 << (rng() % 8)));
        break;
      case 1:
        bytes.insert(pos, inserts[rng() % inserts.size()]);
        break;
      case 2:
        bytes.insert(line_start, bytes.substr(line_start, line_end - line_start));
        break;
      case 3:
        bytes.erase(line_start, line_end - line_start);
        break;
      case 4: {
        const std::size_t digit = bytes.find_first_of("0123456789", pos);
        if (digit != std::string::npos) bytes[digit] = static_cast<char>('0' + rng() % 10);
        break;
      }
      case 5:
        if (pos > 0) bytes.resize(pos);
        break;
      default:
        bytes.insert(pos, bytes.substr(pos, 1 + rng() % 8));  // a few bytes twice
        break;
    }
  }
}

}  // namespace test_support
