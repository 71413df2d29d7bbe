#include "test/support/steady_load.h"

#include "test/support/raw_http.h"

#include <chrono>

namespace test_support {

SteadyLoad::SteadyLoad(int port, std::string target) : port_(port), target_(std::move(target)) {
  threads_.emplace_back([this] { new_connection_loop(); });
  threads_.emplace_back([this] { keep_alive_loop(); });
}

SteadyLoad::~SteadyLoad() { stop(); }

void SteadyLoad::stop() {
  stopping_ = true;
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

std::vector<std::string> SteadyLoad::failures() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return failures_;
}

void SteadyLoad::fail(const std::string& what) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const long long millis = std::chrono::duration_cast<std::chrono::milliseconds>(now).count() % 100000;
  std::lock_guard<std::mutex> lock(mutex_);
  failures_.push_back(what + " (at ..." + std::to_string(millis) + " ms, after " + std::to_string(succeeded_.load()) +
                      " answers)");
}

void SteadyLoad::new_connection_loop() {
  const std::string request = build_request("GET", target_, {{"Connection", "close"}});
  while (!stopping_) {
    try {
      const RawResponse response = http_request(port_, request);
      if (response.status == 200) {
        ++succeeded_;
      } else {
        fail("new connection: status " + std::to_string(response.status));
      }
    } catch (const std::exception& e) {
      fail(std::string("new connection: ") + e.what());
    }
  }
}

void SteadyLoad::keep_alive_loop() {
  const std::string request = build_request("GET", target_);
  ScopedFd connection;
  int answered_here = 0;  // responses on `connection` so far
  while (!stopping_) {
    try {
      if (connection.get() < 0) {
        connection.reset(connect_to(port_));
        answered_here = 0;
      }
      send_all(connection.get(), request);
      const RawResponse response = read_response(connection.get());
      ++answered_here;
      if (response.status == 200) {
        ++succeeded_;
      } else {
        fail("keep-alive: status " + std::to_string(response.status));
      }
      if (response.header("Connection").value_or("") == "close") connection.reset();
    } catch (const RawHttpError& e) {
      connection.reset();
      const bool idle_close = answered_here > 0 && (e.kind() == RawHttpError::Kind::kClosed ||
                                                     e.kind() == RawHttpError::Kind::kIo);
      if (idle_close) {
        ++resent_;  // sent again on a new connection by the next turn of the loop
      } else {
        fail(std::string("keep-alive: ") + e.what());
      }
    } catch (const std::exception& e) {
      connection.reset();
      fail(std::string("keep-alive: ") + e.what());
    }
  }
}

}  // namespace test_support
