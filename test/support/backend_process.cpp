#include "test/support/backend_process.h"

#include <chrono>

namespace test_support {

namespace {

std::vector<std::string> with_port_zero(const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {"0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return args;
}

}  // namespace

std::string bin_path(const std::string& program) { return std::string(LB_BIN_DIR) + "/" + program; }

BackendProcess::BackendProcess(const std::vector<std::string>& extra_args)
    : process_(bin_path("backend_server"), with_port_zero(extra_args)),
      // Generous: sanitizer builds start slowly on a loaded machine.
      port_(process_.port_from_listening_line(std::chrono::seconds(30))) {
  // "backend_server <ID> listening on <host>:<port>"
  std::string line = process_.wait_for_line(" listening on ", std::chrono::seconds(1)).value_or("");
  const std::string prefix = "backend_server ";
  std::size_t end = line.find(" listening on ");
  if (line.compare(0, prefix.size(), prefix) == 0 && end != std::string::npos) {
    id_ = line.substr(prefix.size(), end - prefix.size());
  }
}

}  // namespace test_support
