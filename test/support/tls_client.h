// One TLS connection to 127.0.0.1:port, verified against a CA file, kept open
// for several HTTP/1.1 requests (each answer must carry Content-Length): a
// keep-alive client that lives through a reload or a certificate renewal.
#pragma once

#include <openssl/ssl.h>

#include <string>
#include <utility>

#include "test/support/raw_http.h"

namespace test_support {

class TlsClient {
 public:
  // Throws std::runtime_error when the handshake or the verification fails.
  // `server_name`: sent as SNI and checked against the certificate when not empty.
  TlsClient(int port, const std::string& ca_file, const std::string& server_name = "");
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // The certificate the server showed in this handshake: its common name and serial (hex).
  std::string peer_common_name() const;
  std::string peer_serial() const;

  // Sends `request` and returns the status and body of its answer; throws when the connection fails.
  std::pair<int, std::string> exchange(const std::string& request);
  void send(const std::string& request);
  std::pair<int, std::string> receive();

 private:
  void read_more(std::string& bytes);

  ScopedFd fd_;
  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
};

}  // namespace test_support
