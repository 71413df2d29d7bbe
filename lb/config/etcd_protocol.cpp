#include "lb/config/etcd_protocol.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace lb {

using json = nlohmann::json;

namespace {

// The gateway writes int64 as a string; a number is taken too.
int64_t number_in(const json& object, const char* name) {
  if (!object.is_object()) return 0;
  auto found = object.find(name);
  if (found == object.end()) return 0;
  if (found->is_number_integer()) return found->get<int64_t>();
  if (found->is_string()) {
    try {
      return std::stoll(found->get<std::string>());
    } catch (const std::exception&) {
    }
  }
  throw std::invalid_argument(std::string("etcd: '") + name + "' is not a number");
}

json parse_object(const std::string& body) {
  json document = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) throw std::invalid_argument("etcd: answer is not a JSON object");
  return document;
}

EtcdValue value_of(const json& kv) {
  EtcdValue value;
  value.mod_revision = number_in(kv, "mod_revision");
  if (kv.contains("value")) value.value = base64_decode(kv["value"].get<std::string>());
  return value;
}

}  // namespace

std::string base64_encode(const std::string& bytes) {
  std::string text(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  text.resize(static_cast<size_t>(written));
  return text;
}

std::string base64_decode(const std::string& text) {
  if (text.size() % 4 != 0) throw std::invalid_argument("etcd: value is not base64");
  std::string bytes(3 * (text.size() / 4), '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                      reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (written < 0) throw std::invalid_argument("etcd: value is not base64");
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t padding = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '=' && padding < 2; --i) ++padding;
  bytes.resize(static_cast<size_t>(written) - padding);
  return bytes;
}

json etcd_range_request(const std::string& key) { return {{"key", base64_encode(key)}}; }

json etcd_cas_put_request(const std::string& key, const std::string& value, int64_t mod_revision) {
  const std::string encoded_key = base64_encode(key);
  return {{"compare", json::array({{{"key", encoded_key},
                                    {"result", "EQUAL"},
                                    {"target", "MOD"},
                                    {"mod_revision", std::to_string(mod_revision)}}})},
          {"success", json::array({{{"request_put", {{"key", encoded_key}, {"value", base64_encode(value)}}}}})}};
}

json etcd_watch_request(const std::string& key, int64_t start_revision) {
  return {{"create_request", {{"key", base64_encode(key)}, {"start_revision", std::to_string(start_revision)}}}};
}

EtcdRange parse_etcd_range(const std::string& body) {
  const json document = parse_object(body);
  EtcdRange range;
  range.revision = number_in(document.value("header", json::object()), "revision");
  if (document.contains("kvs") && document["kvs"].is_array() && !document["kvs"].empty()) {
    range.value = value_of(document["kvs"][0]);
  }
  return range;
}

bool parse_etcd_txn_succeeded(const std::string& body) {
  const json document = parse_object(body);
  if (!document.contains("header")) throw std::invalid_argument("etcd: txn answer without a header");
  return document.value("succeeded", false);
}

EtcdWatchMessage parse_etcd_watch_message(const std::string& line) {
  const json document = parse_object(line);
  EtcdWatchMessage message;
  if (document.contains("error")) {
    message.error = document["error"].dump();
    return message;
  }
  const json result = document.value("result", json::object());
  message.created = result.value("created", false);
  message.canceled = result.value("canceled", false);
  message.compact_revision = number_in(result, "compact_revision");
  message.revision = number_in(result.value("header", json::object()), "revision");
  for (const json& event : result.value("events", json::array())) {
    EtcdWatchMessage::Event parsed;
    parsed.deleted = event.value("type", "PUT") == "DELETE";
    parsed.value = value_of(event.value("kv", json::object()));
    message.events.push_back(std::move(parsed));
  }
  return message;
}

}  // namespace lb
