#include "test/support/tls_client.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>

namespace test_support {

namespace {

std::string last_error() {
  char text[256] = "unknown error";
  if (unsigned long code = ERR_get_error()) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

}  // namespace

TlsClient::TlsClient(int port, const std::string& ca_file, const std::string& server_name)
    : fd_(connect_to(port)), context_(SSL_CTX_new(TLS_client_method())) {
  if (SSL_CTX_load_verify_locations(context_, ca_file.c_str(), nullptr) != 1) {
    SSL_CTX_free(context_);
    throw std::runtime_error("TlsClient: cannot load " + ca_file);
  }
  SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
  ssl_ = SSL_new(context_);
  SSL_set_fd(ssl_, fd_.get());
  if (!server_name.empty()) {
    SSL_set_tlsext_host_name(ssl_, server_name.c_str());
    SSL_set1_host(ssl_, server_name.c_str());
  }
  if (SSL_connect(ssl_) != 1) {
    const std::string why = last_error();
    SSL_free(ssl_);
    SSL_CTX_free(context_);
    throw std::runtime_error("TlsClient: handshake failed: " + why);
  }
}

TlsClient::~TlsClient() {
  SSL_free(ssl_);
  SSL_CTX_free(context_);
}

std::string TlsClient::peer_common_name() const {
  std::unique_ptr<X509, decltype(&X509_free)> peer(SSL_get1_peer_certificate(ssl_), X509_free);
  if (!peer) throw std::runtime_error("TlsClient: no peer certificate");
  char name[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(peer.get()), NID_commonName, name, sizeof name);
  return name;
}

std::string TlsClient::peer_serial() const {
  std::unique_ptr<X509, decltype(&X509_free)> peer(SSL_get1_peer_certificate(ssl_), X509_free);
  if (!peer) throw std::runtime_error("TlsClient: no peer certificate");
  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(peer.get()), nullptr);
  char* hex = BN_bn2hex(serial);
  std::string text = hex;
  OPENSSL_free(hex);
  BN_free(serial);
  return text;
}

std::pair<int, std::string> TlsClient::exchange(const std::string& request) {
  send(request);
  return receive();
}

void TlsClient::send(const std::string& request) {
  if (SSL_write(ssl_, request.data(), static_cast<int>(request.size())) != static_cast<int>(request.size())) {
    throw std::runtime_error("TlsClient: write failed: " + last_error());
  }
}

std::pair<int, std::string> TlsClient::receive() {
  std::string bytes;
  size_t head_end;
  while ((head_end = bytes.find("\r\n\r\n")) == std::string::npos) read_more(bytes);
  const std::string head = bytes.substr(0, head_end);
  const size_t length_at = head.find("Content-Length: ");
  if (length_at == std::string::npos) throw std::runtime_error("TlsClient: no Content-Length in " + head);
  const size_t length = std::stoul(head.substr(length_at + 16));
  while (bytes.size() < head_end + 4 + length) read_more(bytes);
  return {std::stoi(head.substr(9, 3)), bytes.substr(head_end + 4, length)};
}

void TlsClient::read_more(std::string& bytes) {
  char buffer[4096];
  const int n = SSL_read(ssl_, buffer, sizeof buffer);
  if (n <= 0) throw std::runtime_error("TlsClient: the connection closed or failed: " + last_error());
  bytes.append(buffer, static_cast<size_t>(n));
}

}  // namespace test_support
