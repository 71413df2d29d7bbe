#include "test/support/nginx_process.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "test/support/eventually.h"
#include "test/support/free_port.h"

namespace test_support {

namespace {

constexpr char kNginx[] = "/usr/sbin/nginx";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

bool NginxProcess::installed() { return ::access(kNginx, X_OK) == 0; }

NginxProcess::NginxProcess(const std::string& server_directives) {
  char pattern[] = "/tmp/lb_nginx_test_XXXXXX";
  if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  // free_port() can race with another process: a port taken meanwhile makes nginx exit, and a fresh one is tried.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (start(server_directives)) return;
  }
  const std::string log = read_file(dir_ / "error.log");
  std::filesystem::remove_all(dir_);
  throw std::runtime_error("nginx did not start:\n" + log);
}

NginxProcess::~NginxProcess() {
  if (process_) {
    process_->signal(SIGTERM);
    process_->wait_exit(std::chrono::seconds(5));  // the destructor SIGKILLs it if it did not stop
    process_.reset();
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

bool NginxProcess::start(const std::string& server_directives) {
  port_ = free_port();
  const std::string dir = dir_.string();
  std::filesystem::remove(dir_ / "nginx.pid");
  std::ofstream(dir_ / "nginx.conf") << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
                                     << "error_log " << dir << "/error.log warn;\npid " << dir << "/nginx.pid;\n"
                                     << "events { worker_connections 64; }\nhttp {\n  access_log off;\n"
                                     << "  client_body_temp_path " << dir << "/client_body;\n"
                                     << "  proxy_temp_path " << dir << "/proxy;\n  fastcgi_temp_path " << dir
                                     << "/fastcgi;\n  uwsgi_temp_path " << dir << "/uwsgi;\n  scgi_temp_path " << dir
                                     << "/scgi;\n  server {\n    listen 127.0.0.1:" << port_ << " ssl;\n"
                                     << server_directives << "\n  }\n}\n";
  process_ = std::make_unique<ChildProcess>(
      kNginx, std::vector<std::string>{"-e", dir + "/error.log", "-p", dir, "-c", dir + "/nginx.conf"});
  // nginx writes its pid file after it has opened its listening sockets.
  if (eventually([&] { return std::filesystem::exists(dir_ / "nginx.pid") || !process_->running(); })) {
    if (process_->running()) return true;
  }
  process_->signal(SIGKILL);
  process_->wait_exit(std::chrono::seconds(5));
  process_.reset();
  return false;
}

}  // namespace test_support
