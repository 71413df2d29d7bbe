#include "test/support/load_balancer_process.h"

#include <algorithm>
#include <fstream>

#include "test/support/backend_process.h"

namespace test_support {

namespace {

std::vector<std::string> arguments(const std::vector<std::string>& backend_urls,
                                   const std::vector<std::string>& extra_args) {
  std::vector<std::string> args;
  if (std::find(extra_args.begin(), extra_args.end(), "--port") == extra_args.end()) args = {"--port", "0"};
  if (std::find(extra_args.begin(), extra_args.end(), "--bind") == extra_args.end()) {
    args.insert(args.end(), {"--bind", "127.0.0.1"});
  }
  for (const auto& url : backend_urls) {
    args.push_back("--backend");
    args.push_back(url);
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return args;
}

long status_field_kib(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.compare(0, field.size(), field) == 0) return std::stol(line.substr(field.size()));
  }
  return -1;
}

}  // namespace

LoadBalancerProcess::LoadBalancerProcess(const std::vector<std::string>& backend_urls,
                                         const std::vector<std::string>& extra_args)
    : process_(bin_path("load_balancer"), arguments(backend_urls, extra_args)),
      port_(process_.port_from_listening_line(std::chrono::seconds(30), "load_balancer listening on ")) {}

int LoadBalancerProcess::admin_port() {
  return process_.port_from_listening_line(std::chrono::seconds(5), "admin listening on ");
}

std::pair<int, std::string> run_load_balancer_to_exit(const std::vector<std::string>& args) {
  ChildProcess process(bin_path("load_balancer"), args);
  int status = process.wait_exit(std::chrono::seconds(10)).value_or(-1);
  return {status, process.output()};
}

long LoadBalancerProcess::rss_kib() const { return status_field_kib(process_.pid(), "VmRSS:"); }
long LoadBalancerProcess::peak_rss_kib() const { return status_field_kib(process_.pid(), "VmHWM:"); }

}  // namespace test_support
