#include "lb/proxy/proxy_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <new>

#include "common/log.h"
#include "common/thread_per_connection_queue.h"
#include "lb/http/error_response.h"
#include "lb/proxy/http2_connection.h"
#include "lb/proxy/http1_connection.h"
#include "lb/transport/proxy_protocol.h"
#include "lb/transport/tls_stream.h"

namespace lb {

namespace {
// What an HTTP/2 client sends first (RFC 9113 3.4), here without TLS (--h2c).
constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// Small enough for 10,000 connections (only touched pages count: ~12 KB each,
// the Http1Connection included), large enough for OpenSSL's handshake.
constexpr std::size_t kConnectionStackBytes = 256 * 1024;
}  // namespace

ProxyServer::ProxyServer(ProxyContext& context, std::size_t max_connections, Millis drain_timeout)
    : context_(context) {
  new_task_queue = [max_connections, drain_timeout] {
    return new common::ThreadPerConnectionQueue(max_connections, drain_timeout, kConnectionStackBytes,
                                                common::ThreadPerConnectionQueue::Scheduling::Batch);
  };
  // HTTP/2 streams' workers: pooled threads like the connections', one per stream in progress.
  stream_workers_ = std::make_unique<common::ThreadPerConnectionQueue>(
      max_connections, drain_timeout, kConnectionStackBytes, common::ThreadPerConnectionQueue::Scheduling::Batch);
  context_.stream_workers = stream_workers_.get();
}

ProxyServer::~ProxyServer() { stream_workers_->shutdown(); }

void ProxyServer::shutdown() {
  context_.registry.stop();  // first: once the listener stops, serve() may return at once
  stop_listening();
}

void ProxyServer::hand_over() {
  context_.registry.stop();
  HttpListener::hand_over();
}

bool ProxyServer::process_and_close_socket(socket_t sock) {
  int one = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::unique_ptr<Stream> client;
  // Held until the connection ends: the handshake's SNI callback reads it.
  const std::shared_ptr<const LiveSettings> live = context_.live.current();
  const TlsServerContext* tls = live->tls.get();
  // Behind an L4 balancer the client's address comes first, before any TLS.
  std::string client_ip = peer_address(sock);
  const bool proxy_protocol = !live->proxy_protocol_from.empty();
  const bool expects_proxy_header = proxy_protocol && live->proxy_protocol_from.contains(client_ip);
  if (expects_proxy_header) {
    ProxyHeader header = read_proxy_header(sock, live->proxy.header_timeout);
    if (header.status != ProxyHeader::Status::Ok) {
      context_.proxy_header_refusals.note(client_ip, "PROXY header",
                                          header.status == ProxyHeader::Status::Invalid ? header.problem
                                                                                        : "none within --header-timeout");
      ::close(sock);
      return true;
    }
    if (!header.source.empty()) client_ip = header.source;
  } else if (proxy_protocol && tls && peeks_proxy_header(sock, live->proxy.header_timeout)) {
    // Plain HTTP refuses it at its first bytes (Http1Connection); TLS must before the handshake.
    context_.proxy_header_refusals.note(client_ip, "PROXY header", "peer not in --proxy-protocol-from");
    ::close(sock);
    return true;
  }
  if (!tls) {
    client = std::make_unique<TcpStream>(sock);
  } else {
    std::string error;
    switch (accept_tls(sock, *tls, live->proxy.header_timeout, client, error)) {
      case TlsAcceptResult::Ok:
        break;
      case TlsAcceptResult::PlainHttp: {
        // Plain HTTP on the TLS port: say so in plain HTTP, rather than a handshake error or a hang.
        TcpStream plain(sock);
        std::string reply = error_response(400, "plain HTTP request sent to the HTTPS port", true);
        plain.write_all(reply.data(), reply.size(), live->proxy.client_timeout);
        return true;
      }
      case TlsAcceptResult::Failed:
        ::close(sock);
        return true;
    }
  }
  serve_client(std::move(client), *live, tls != nullptr, std::move(client_ip),
               /*refuse_proxy_header=*/proxy_protocol && !expects_proxy_header);
  return true;  // the stream closed the socket
}

// HTTP/2 (chosen by ALPN on TLS, or by its preface on a plain --h2c
// listener) or HTTP/1.1, on this thread until the connection ends. A peer
// that may not send a PROXY header is refused if it does.
void ProxyServer::serve_client(std::unique_ptr<Stream> client, const LiveSettings& live, bool tls,
                               std::string client_ip, bool refuse_proxy_header) {
  auto* tls_client = dynamic_cast<TlsStream*>(client.get());
  if (tls_client && tls_client->alpn() == kAcmeTlsAlpn) return;  // an ACME validator: the handshake was the answer
  const bool http2 = tls_client ? tls_client->alpn() == "h2"
                                : live.proxy.h2c && peeks_prefix(client->fd(), kHttp2Preface, live.proxy.header_timeout);
  // Read once, from the handshake: every request on the connection carries it (--tls-client-ca).
  std::string client_cert_subject = tls_client ? tls_client->client_subject() : "";
  if (http2) {
    Http2Connection connection(context_, std::move(client), tls ? "https" : "http", client_ip,
                               std::move(client_cert_subject));
    connection.serve();
    return;
  }
  // On this thread's stack (~3 KB; the buffers have their own mapping): it
  // goes when the thread goes, and leaves no heap fragments behind.
  try {
    Http1Connection connection(context_, std::move(client), tls ? "https" : "http", client_ip,
                               std::move(client_cert_subject), refuse_proxy_header);
    connection.serve();
  } catch (const std::bad_alloc&) {
    // No memory for this connection's buffers: it closes (the stream closed
    // the socket on the way out), the server and its other connections go on.
    common::log_line("[Proxy] out of memory for a new connection; closed it");
  }
}

}  // namespace lb
