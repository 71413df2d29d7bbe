// A small cpp-httplib server running on its own thread: the admin API and the
// HTTP-to-HTTPS redirect listener use it.
#pragma once

#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace lb {

// Socket options for a listener whose busy port must be an error: SO_REUSEADDR
// only (httplib's default adds SO_REUSEPORT, which lets a second process share
// the port silently).
void use_exclusive_port(httplib::Server& server);

// Binds `server` to address:port (0: a free port). Returns the bound port, or
// -1 with `error` set.
int bind_server(httplib::Server& server, const std::string& address, int port, std::string& error);

class BackgroundHttpServer {
 public:
  BackgroundHttpServer();  // a busy port is an error (SO_REUSEADDR only, no SO_REUSEPORT)
  ~BackgroundHttpServer();

  httplib::Server& server() { return *server_; }
  // Binds address:port (0: a free port) and serves on a background thread.
  // Returns the bound port, or -1 with `error` set.
  int start(const std::string& address, int port, std::string& error);
  void stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace lb
