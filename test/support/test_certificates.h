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
// Client certificates (clientAuth): "client" (subject CN=client,O=Example) and
// "client2" (CN=client2,O=Example) signed by the CA; "outsider" signed by
// "other-ca", a second CA.
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
    run("openssl req -x509 -days 2" + ec + " -keyout other-ca.key -out other-ca.crt -subj /CN=lb-other-ca");
    sign("client", "/O=Example/CN=client", "extendedKeyUsage=clientAuth", "ca");
    sign("client2", "/O=Example/CN=client2", "extendedKeyUsage=clientAuth", "ca");
    sign("outsider", "/O=Elsewhere/CN=outsider", "extendedKeyUsage=clientAuth", "other-ca");
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
    sign(name, "/CN=" + cn, "subjectAltName=" + san, "ca");
  }
  // NAME.key and NAME.crt for `subject`, with the one extension line `extension`, signed by CA.crt.
  void sign(const std::string& name, const std::string& subject, const std::string& extension,
            const std::string& ca) const {
    run("printf '" + extension + "\\n' > " + name + ".ext");
    run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name +
        ".key -out " + name + ".csr -subj " + subject);
    run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".crt -CAkey " + ca + ".key -CAcreateserial -days 2 -out " +
        name + ".crt -extfile " + name + ".ext");
  }
};

// The run's certificates, made on first use.
inline const TestCertificates& test_certificates() {
  static const TestCertificates made;
  return made;
}

}  // namespace test_support
