#include "test/support/etcd_process.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "test/support/free_port.h"
#include "test/support/raw_http.h"

namespace test_support {

namespace {

constexpr char kEtcd[] = "/usr/bin/etcd";

std::string base64(const std::string& bytes) {
  std::string text(4 * ((bytes.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()), reinterpret_cast<const unsigned char*>(bytes.data()),
                  static_cast<int>(bytes.size()));
  return text;
}

}  // namespace

bool EtcdProcess::installed() { return ::access(kEtcd, X_OK) == 0; }

EtcdProcess::EtcdProcess() : client_port_(free_port()), peer_port_(free_port()) {
  char folder[] = "/tmp/lb_etcd_test_XXXXXX";
  if (!::mkdtemp(folder)) throw std::runtime_error("cannot make a data folder for etcd");
  data_dir_ = folder;
  start();
}

EtcdProcess::~EtcdProcess() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(data_dir_, ignored);
}

void EtcdProcess::start() {
  const std::string client = url();
  const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
  process_ = std::make_unique<ChildProcess>(
      kEtcd, std::vector<std::string>{"--data-dir", data_dir_ + "/data", "--name", "default", "--listen-client-urls",
                                      client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
                                      "--initial-advertise-peer-urls", peer, "--initial-cluster", "default=" + peer,
                                      "--log-level", "error"});
  // Serving once /health answers "true" (a member that has not elected itself answers false).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline && process_->running()) {
    try {
      const RawResponse health = http_get(client_port_, "/health");
      if (health.status == 200 && health.body.find("true") != std::string::npos) return;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("etcd did not start:\n" + process_->output());
}

void EtcdProcess::stop() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait_exit(std::chrono::seconds(5));
  process_.reset();
}

int64_t EtcdProcess::put(const std::string& key, const std::string& value) {
  const nlohmann::json body = {{"key", base64(key)}, {"value", base64(value)}};
  const RawResponse response =
      http_request(client_port_, build_request("POST", "/v3/kv/put", {{"Content-Type", "application/json"}}, body.dump()));
  if (response.status != 200) throw std::runtime_error("etcd put: HTTP " + std::to_string(response.status) + " " + response.body);
  return std::stoll(nlohmann::json::parse(response.body)["header"]["revision"].get<std::string>());
}

int64_t EtcdProcess::mod_revision(const std::string& key) {
  const nlohmann::json body = {{"key", base64(key)}};
  const RawResponse response = http_request(
      client_port_, build_request("POST", "/v3/kv/range", {{"Content-Type", "application/json"}}, body.dump()));
  if (response.status != 200) throw std::runtime_error("etcd range: HTTP " + std::to_string(response.status));
  const nlohmann::json answer = nlohmann::json::parse(response.body);
  if (!answer.contains("kvs")) return 0;
  return std::stoll(answer["kvs"][0]["mod_revision"].get<std::string>());
}

}  // namespace test_support
