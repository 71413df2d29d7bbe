#include "lb/config/etcd_client.h"

#include <httplib.h>
#include <sys/socket.h>

namespace lb {

namespace {

// etcd answers a single key at once; a slower answer counts as no answer.
constexpr time_t kConnectSeconds = 1;
constexpr time_t kRequestSeconds = 2;
// A quiet watch is begun again after this long, so a peer that vanished
// without closing the connection is noticed.
constexpr time_t kWatchIdleSeconds = 60;

}  // namespace

EtcdClient::EtcdClient(std::string url)
    : url_(std::move(url)), watch_client_(std::make_unique<httplib::Client>(url_)) {
  watch_client_->set_connection_timeout(kConnectSeconds, 0);
  watch_client_->set_read_timeout(kWatchIdleSeconds, 0);
  watch_client_->set_socket_options([this](socket_t socket) {
    std::lock_guard<std::mutex> lock(watch_socket_mutex_);
    watch_socket_ = socket;
  });
}

EtcdClient::~EtcdClient() = default;

std::string EtcdClient::post(const std::string& path, const std::string& body) {
  httplib::Client client(url_);
  client.set_connection_timeout(kConnectSeconds, 0);
  client.set_read_timeout(kRequestSeconds, 0);
  client.set_write_timeout(kRequestSeconds, 0);
  const httplib::Result result = client.Post(path.c_str(), body, "application/json");
  if (!result) throw EtcdError("etcd at " + url_ + ": " + httplib::to_string(result.error()) + " error");
  if (result->status != 200) {
    throw EtcdError("etcd at " + url_ + path + ": HTTP " + std::to_string(result->status) + " " + result->body);
  }
  return result->body;
}

EtcdRange EtcdClient::range(const std::string& key) {
  const std::string body = post("/v3/kv/range", etcd_range_request(key).dump());
  try {
    return parse_etcd_range(body);
  } catch (const std::exception& e) {
    throw EtcdError(e.what());
  }
}

bool EtcdClient::compare_and_put(const std::string& key, const std::string& value, int64_t mod_revision) {
  const std::string body = post("/v3/kv/txn", etcd_cas_put_request(key, value, mod_revision).dump());
  try {
    return parse_etcd_txn_succeeded(body);
  } catch (const std::exception& e) {
    throw EtcdError(e.what());
  }
}

EtcdClient::WatchEnd EtcdClient::watch(const std::string& key, int64_t start_revision,
                                       const std::function<bool(const EtcdWatchMessage&)>& on_message) {
  WatchEnd end;
  bool ended_by_caller = false;
  std::string pending;  // bytes after the last newline: one message per line
  httplib::Request request;
  request.method = "POST";
  request.path = "/v3/watch";
  request.body = etcd_watch_request(key, start_revision).dump();
  request.set_header("Content-Type", "application/json");
  request.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
    pending.append(data, length);
    for (size_t newline = pending.find('\n'); newline != std::string::npos; newline = pending.find('\n')) {
      const std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
      EtcdWatchMessage message;
      try {
        message = parse_etcd_watch_message(line);
      } catch (const std::exception& e) {
        end.error = e.what();
        return false;
      }
      end.created = end.created || message.created;
      if (!on_message(message)) {
        ended_by_caller = true;
        return false;
      }
    }
    return true;
  };
  const httplib::Result result = watch_client_->send(request);
  {
    // httplib closed it (no keep-alive): the number may be reused from now on.
    std::lock_guard<std::mutex> lock(watch_socket_mutex_);
    watch_socket_ = -1;
  }
  if (ended_by_caller) return end;
  if (end.error.empty()) {
    end.error = result ? "watch ended (HTTP " + std::to_string(result->status) + ")"
                       : "etcd at " + url_ + ": " + httplib::to_string(result.error()) + " error";
  }
  return end;
}

void EtcdClient::stop_watch() {
  std::lock_guard<std::mutex> lock(watch_socket_mutex_);
  if (watch_socket_ >= 0) ::shutdown(watch_socket_, SHUT_RDWR);  // the blocked read returns at once
}

}  // namespace lb
