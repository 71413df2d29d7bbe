#include "lb/config/config_text.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

namespace lb {

PrivateConfigFile::PrivateConfigFile(const std::string& text) {
  const char* folder = std::getenv("TMPDIR");
  std::string name = std::string(folder && *folder ? folder : "/tmp") + "/load_balancer-config-XXXXXX";
  const int fd = ::mkstemp(name.data());  // 0600
  if (fd < 0) throw std::runtime_error("cannot write a temporary config file in " + name);
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  ::close(fd);
  path_ = name;
  if (written != text.size()) {
    ::unlink(path_.c_str());
    throw std::runtime_error("cannot write a temporary config file in " + name);
  }
}

PrivateConfigFile::~PrivateConfigFile() { ::unlink(path_.c_str()); }

std::vector<std::string> without_backends_and_routes(int argc, const char* const* argv) {
  std::vector<std::string> kept;
  for (int i = 0; i < argc; ++i) {
    const std::string argument = argv[i];
    if (argument == "-b" || argument == "--backend" || argument == "--route") {
      // and its values (CLI11 takes several after one flag: -b URL URL)
      while (i + 1 < argc && argv[i + 1][0] != '-') ++i;
      continue;
    }
    const bool joined = argument.rfind("--backend=", 0) == 0 || argument.rfind("--route=", 0) == 0 ||
                        (argument.size() > 2 && argument.rfind("-b", 0) == 0 && argument[2] != '-');
    if (i > 0 && joined) continue;
    kept.push_back(argument);
  }
  return kept;
}

}  // namespace lb
