#include "test/browser/devtools_page.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

namespace test_support {

namespace {

constexpr std::chrono::seconds kAnswerWithin{20};

}  // namespace

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "lb-browser-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

DevToolsPage::DevToolsPage(const std::string& chromium, const std::string& url) {
  int commands[2], replies[2];  // [0] read end, [1] write end
  if (::pipe2(commands, O_CLOEXEC) != 0 || ::pipe2(replies, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                   "--no-first-run", "--disable-background-networking", "--disable-component-update",
                                   "--disable-sync", "--remote-debugging-pipe", "--window-size=1280,1000",
                                   "--user-data-dir=" + profile_.path(), "about:blank"};
  std::vector<char*> argv;  // built before fork(): the child may only make async-signal-safe calls
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // The browser reads commands on fd 3 and writes replies on fd 4.
    ::dup2(commands[0], 3);
    ::dup2(replies[1], 4);
    int quiet = ::open("/dev/null", O_WRONLY);
    ::dup2(quiet, 1);
    ::dup2(quiet, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(commands[0]);
  ::close(replies[1]);
  to_browser_ = commands[1];
  from_browser_ = replies[0];
  const std::string target = call("Target.createTarget", {{"url", url}}, false)["targetId"];
  session_ = call("Target.attachToTarget", {{"targetId", target}, {"flatten", true}}, false)["sessionId"];
}

DevToolsPage::~DevToolsPage() {
  if (to_browser_ >= 0) ::close(to_browser_);
  if (from_browser_ >= 0) ::close(from_browser_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);  // only the browser this object started
    ::waitpid(pid_, nullptr, 0);
  }
}

nlohmann::json DevToolsPage::call(const std::string& method, const nlohmann::json& params, bool in_page) {
  const int id = next_id_++;
  nlohmann::json message = {{"id", id}, {"method", method}, {"params", params}};
  if (in_page) message["sessionId"] = session_;
  std::string bytes = message.dump();
  bytes.push_back('\0');
  for (size_t sent = 0; sent < bytes.size();) {
    ssize_t n = ::write(to_browser_, bytes.data() + sent, bytes.size() - sent);
    if (n <= 0) throw std::runtime_error("the browser's pipe closed (" + method + ")");
    sent += static_cast<size_t>(n);
  }
  // Replies and events come in any order: skip everything but our answer.
  const auto deadline = std::chrono::steady_clock::now() + kAnswerWithin;
  for (;;) {
    for (size_t end; (end = received_.find('\0')) != std::string::npos;) {
      nlohmann::json reply = nlohmann::json::parse(received_.substr(0, end), nullptr, false);
      received_.erase(0, end + 1);
      if (!reply.is_object() || reply.value("id", -1) != id) continue;
      if (reply.contains("error")) throw std::runtime_error(method + ": " + reply["error"].dump());
      return reply["result"];
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    struct pollfd ready = {from_browser_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
      throw std::runtime_error("the browser did not answer " + method);
    }
    char buffer[65536];
    ssize_t n = ::read(from_browser_, buffer, sizeof buffer);
    if (n <= 0) throw std::runtime_error("the browser closed its pipe (" + method + ")");
    received_.append(buffer, static_cast<size_t>(n));
  }
}

nlohmann::json DevToolsPage::evaluate(const std::string& expression) {
  nlohmann::json result =
      call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}});
  if (result.contains("exceptionDetails")) {
    throw std::runtime_error("page script failed: " + result["exceptionDetails"].dump());
  }
  return result["result"].value("value", nlohmann::json());
}

bool DevToolsPage::wait_for(const std::string& expression, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (evaluate("Boolean(" + expression + ")") == true) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace test_support
