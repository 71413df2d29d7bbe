// A config given as text (from etcd) rather than as --config FILE:
// parse_options() hands it to CLI11 the way it reads a file, and the flags
// it replaces are taken out of the command line.
#pragma once

#include <string>
#include <vector>

namespace lb {

// The text in a private (0600) temporary file, removed again by the destructor.
class PrivateConfigFile {
 public:
  // Throws std::runtime_error when no temporary file can be written.
  explicit PrivateConfigFile(const std::string& text);
  ~PrivateConfigFile();
  PrivateConfigFile(const PrivateConfigFile&) = delete;
  PrivateConfigFile& operator=(const PrivateConfigFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// argv without its -b/--backend and --route flags (and their values): a
// config from etcd names the backends and routes; those on the command line
// only serve until it does (README "One configuration in etcd").
std::vector<std::string> without_backends_and_routes(int argc, const char* const* argv);

}  // namespace lb
