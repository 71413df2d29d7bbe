// A page in headless Chromium that a test drives as a user would: it runs in
// real time, and the test clicks and reads it through the DevTools protocol
// (--remote-debugging-pipe: JSON messages ending in NUL on fds 3 and 4), so no
// WebSocket client and no extra package are needed.
//
//   DevToolsPage page(chromium, "http://127.0.0.1:9000/");
//   page.evaluate("document.querySelector('[data-action=errors]').click()");
//   page.wait_for("document.querySelector('tr.retried') !== null", 10s);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace test_support {

// A fresh directory (a browser profile), deleted with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class DevToolsPage {
 public:
  // Starts Chromium (its own process, stopped by the destructor) and opens `url`.
  DevToolsPage(const std::string& chromium, const std::string& url);
  ~DevToolsPage();
  DevToolsPage(const DevToolsPage&) = delete;
  DevToolsPage& operator=(const DevToolsPage&) = delete;

  // Runs `expression` in the page (promises are awaited) and returns its value.
  // Throws std::runtime_error if it threw or the browser did not answer.
  nlohmann::json evaluate(const std::string& expression);
  // Polls `expression` every 100 ms until it is true, for up to `limit`.
  bool wait_for(const std::string& expression, std::chrono::milliseconds limit);

 private:
  nlohmann::json call(const std::string& method, const nlohmann::json& params, bool in_page = true);

  TempDir profile_;
  pid_t pid_ = -1;
  int to_browser_ = -1;    // our end of its fd 3
  int from_browser_ = -1;  // our end of its fd 4
  std::string received_;   // bytes read past the last complete message
  std::string session_;    // the page's session (Target.attachToTarget, flatten)
  int next_id_ = 1;
};

}  // namespace test_support
