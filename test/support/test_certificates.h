// Throw-away certificates made with the `openssl` command, for TLS tests.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace test_support {

// Made once per test run in a fresh temp dir, removed at exit: a CA; "server"
// for localhost and 127.0.0.1 and "second" for *.example.test, both signed by
// the CA; "rogue", self-signed for localhost; "other.key", matching nothing.
struct TestCertificates {
  std::filesystem::path dir;
  std::string path(const char* name) const { return (dir / name).string(); }

  TestCertificates() {
    char pattern[] = "/tmp/lb_tls_test_XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = pattern;
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    run("openssl req -x509 -days 2" + ec + " -keyout ca.key -out ca.crt -subj /CN=lb-test-ca");
    issue("server", "localhost", "DNS:localhost,IP:127.0.0.1");
    issue("second", "api.example.test", "DNS:*.example.test");
    run("openssl req -x509 -days 2" + ec + " -keyout rogue.key -out rogue.crt -subj /CN=localhost" +
        " -addext subjectAltName=DNS:localhost,IP:127.0.0.1");
    run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key");
  }
  ~TestCertificates() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

 private:
  void run(const std::string& command) const {
    // The subshell keeps the command's own redirections (printf > file).
    std::string line = "cd '" + dir.string() + "' && (" + command + ") >/dev/null 2>&1";
    if (std::system(line.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
  void issue(const std::string& name, const std::string& cn, const std::string& san) const {
    run("printf 'subjectAltName=" + san + "\\n' > " + name + ".ext");
    run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name +
        ".key -out " + name + ".csr -subj /CN=" + cn);
    run("openssl x509 -req -in " + name + ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out " + name +
        ".crt -extfile " + name + ".ext");
  }
};

// The run's certificates, made on first use.
inline const TestCertificates& test_certificates() {
  static const TestCertificates made;
  return made;
}

}  // namespace test_support
