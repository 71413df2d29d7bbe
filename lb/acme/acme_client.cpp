#include "lb/acme/acme_client.h"

#include <algorithm>

namespace lb::acme {

namespace {

constexpr int kNonceRetries = 10;  // pebble refuses a share of good nonces on purpose
constexpr auto kPollEvery = std::chrono::milliseconds(500);
constexpr auto kPollFor = std::chrono::seconds(120);  // a validation or an issuance that takes longer has failed
const std::string kProblemPrefix = "urn:ietf:params:acme:error:";

std::chrono::seconds retry_after(const AcmeResponse& response) {
  return parse_retry_after(response.header("retry-after"), std::chrono::system_clock::now());
}

// An RFC 7807 problem document as one line: "rateLimited: too many certificates".
std::string problem_text(const AcmeResponse& response) {
  const auto problem = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!problem.is_object()) return "status " + std::to_string(response.status);
  std::string type = problem.value("type", "");
  if (type.rfind(kProblemPrefix, 0) == 0) type.erase(0, kProblemPrefix.size());
  const std::string detail = problem.value("detail", "");
  return (type.empty() ? "status " + std::to_string(response.status) : type) + (detail.empty() ? "" : ": " + detail);
}

bool is_bad_nonce(const AcmeResponse& response) {
  const auto problem = nlohmann::json::parse(response.body, nullptr, false);
  return response.status == 400 && problem.is_object() && problem.value("type", "") == kProblemPrefix + "badNonce";
}

nlohmann::json parse_object(const AcmeResponse& response, const std::string& url) {
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (!parsed.is_object()) throw AcmeError("not a JSON object from " + url);
  return parsed;
}

std::string string_at(const nlohmann::json& object, const char* key, const std::string& what) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_string()) throw AcmeError(what + " has no \"" + key + "\"");
  return found->get<std::string>();
}

}  // namespace

const char* challenge_name(ChallengeType type) {
  return type == ChallengeType::Http01 ? "http-01" : "tls-alpn-01";
}

AcmeClient::AcmeClient(AcmeHttp& http, const AcmeAccount& account, ChallengeBoard& board,
                       std::vector<ChallengeType> challenges, Pause pause)
    : http_(http), account_(account), board_(board), challenges_(std::move(challenges)), pause_(std::move(pause)) {}

std::string AcmeClient::issue(const std::string& name, const EcKey& certificate_key) {
  read_directory();
  find_or_create_account();
  const nlohmann::json identifiers = {{{"type", "dns"}, {"value", name}}};
  const std::string new_order = string_at(directory_, "newOrder", "the directory");
  const AcmeResponse ordered = post(new_order, nlohmann::json{{"identifiers", identifiers}}.dump());
  const std::string order_url = ordered.header("location");
  nlohmann::json order = parse_object(ordered, new_order);
  if (order_url.empty()) throw AcmeError("the new order has no Location");
  for (const auto& authorization : order.value("authorizations", nlohmann::json::array())) {
    if (authorization.is_string()) prove(authorization.get<std::string>());
  }
  order = wait_while(order_url, {"pending"}, "the order");
  if (order.value("status", "") != "ready") throw AcmeError("the order is " + order.value("status", "?"));
  post_json(string_at(order, "finalize", "the order"),
            nlohmann::json{{"csr", base64url(csr_der(certificate_key, {name}))}}.dump());
  order = wait_while(order_url, {"ready", "processing"}, "the order");
  if (order.value("status", "") != "valid") throw AcmeError("the order is " + order.value("status", "?"));
  const AcmeResponse chain = post(string_at(order, "certificate", "the valid order"), "");
  if (chain.body.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    throw AcmeError("the certificate download is not PEM");
  }
  return chain.body;
}

void AcmeClient::read_directory() {
  const AcmeResponse response = http_.get(account_.directory_url);
  if (response.status != 200) {
    throw AcmeError("directory " + account_.directory_url + ": " + problem_text(response), retry_after(response));
  }
  directory_ = parse_object(response, account_.directory_url);
}

void AcmeClient::find_or_create_account() {
  nlohmann::json request = {{"termsOfServiceAgreed", true}};
  if (!account_.email.empty()) request["contact"] = {"mailto:" + account_.email};
  // Signed with the key itself (no kid yet): the server answers with the
  // account that key already has, or makes one (RFC 8555 7.3).
  const AcmeResponse response = post(string_at(directory_, "newAccount", "the directory"), request.dump());
  kid_ = response.header("location");
  if (kid_.empty()) throw AcmeError("the new account has no Location");
}

AcmeResponse AcmeClient::post(const std::string& url, const std::string& payload) {
  for (int attempt = 0;; ++attempt) {
    if (nonce_.empty()) {
      const std::string new_nonce = string_at(directory_, "newNonce", "the directory");
      nonce_ = http_.head(new_nonce).header("replay-nonce");
      if (nonce_.empty()) throw AcmeError("no Replay-Nonce from " + new_nonce);
    }
    const std::string body = jws(account_.key, kid_, nonce_, url, payload);
    AcmeResponse response = http_.post_jose(url, body);
    nonce_ = response.header("replay-nonce");  // each answer carries the next one
    if (response.status < 400) return response;
    if (!is_bad_nonce(response) || attempt + 1 >= kNonceRetries) {
      throw AcmeError(url + ": " + problem_text(response), retry_after(response));
    }
  }
}

nlohmann::json AcmeClient::post_json(const std::string& url, const std::string& payload) {
  return parse_object(post(url, payload), url);
}

void AcmeClient::prove(const std::string& authorization_url) {
  const nlohmann::json authorization = post_json(authorization_url, "");
  if (authorization.value("status", "") == "valid") return;  // proved recently, for this account
  const std::string name = authorization.value("identifier", nlohmann::json::object()).value("value", "");
  const auto offered = authorization.value("challenges", nlohmann::json::array());
  for (ChallengeType type : challenges_) {
    auto challenge = std::find_if(offered.begin(), offered.end(), [type](const nlohmann::json& c) {
      return c.is_object() && c.value("type", "") == challenge_name(type);
    });
    if (challenge == offered.end()) continue;
    const std::string token = string_at(*challenge, "token", "the challenge");
    const std::string key_authorization = token + "." + account_.key.thumbprint();
    if (type == ChallengeType::Http01) {
      board_.post_http01(token, key_authorization);
    } else {
      board_.post_tls_alpn01(name, tls_alpn_challenge_certificate(name, key_authorization));
    }
    // Taken down however this ends: a stale answer must not outlive its order.
    struct TakeDown {
      ChallengeBoard& board;
      std::string key;
      ~TakeDown() { board.take_down(key); }
    } posted{board_, type == ChallengeType::Http01 ? token : name};
    post_json(string_at(*challenge, "url", "the challenge"), "{}");  // "ready: validate now"
    const nlohmann::json done = wait_while(authorization_url, {"pending"}, name + "'s authorization");
    if (done.value("status", "") == "valid") return;
    std::string why;
    for (const auto& c : done.value("challenges", nlohmann::json::array())) {
      if (c.is_object() && c.contains("error") && c["error"].is_object()) why = c["error"].value("detail", "");
    }
    throw AcmeError(name + ": " + challenge_name(type) + " failed" + (why.empty() ? "" : ": " + why));
  }
  throw AcmeError(name + ": the server offers no challenge we can answer");
}

nlohmann::json AcmeClient::wait_while(const std::string& url, const std::vector<std::string>& waiting,
                                      const std::string& what) {
  const auto give_up = std::chrono::steady_clock::now() + kPollFor;
  for (;;) {
    const AcmeResponse response = post(url, "");
    nlohmann::json object = parse_object(response, url);
    const std::string status = object.value("status", "");
    if (std::find(waiting.begin(), waiting.end(), status) == waiting.end()) return object;
    if (std::chrono::steady_clock::now() >= give_up) throw AcmeError(what + " is still " + status);
    const std::chrono::seconds asked = retry_after(response);
    const std::chrono::milliseconds wait = asked.count() > 0 ? std::chrono::milliseconds(asked) : kPollEvery;
    if (!pause_(std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(30)))) throw AcmeError("stopping");
  }
}

}  // namespace lb::acme
