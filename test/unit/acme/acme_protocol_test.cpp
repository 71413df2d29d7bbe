// The ACME client's own logic without a server: when to renew and retry,
// Retry-After, the settings check, the challenge board, the state files, and
// the protocol's error paths against a scripted server (the whole exchange
// runs against pebble in test/integration/acme_test.cpp).
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lb/acme/acme_client.h"
#include "lb/acme/acme_settings.h"
#include "lb/acme/acme_state.h"
#include "lb/acme/renewal_schedule.h"

using namespace lb::acme;
using namespace std::chrono_literals;

namespace {

const SystemTime kEpoch = SystemTime() + std::chrono::hours(24 * 365 * 50);

std::string base64url_decode(const std::string& text) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  int bits = 0;
  unsigned value = 0;
  for (char c : text) {
    value = (value << 6) | static_cast<unsigned>(alphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xff));
    }
  }
  return out;
}

// Answers in order, and keeps what was posted.
class ScriptedServer : public AcmeHttp {
 public:
  std::deque<AcmeResponse> answers;
  std::vector<nlohmann::json> posted_headers;  // each POST's decoded protected header

  AcmeResponse get(const std::string&) override { return next(); }
  AcmeResponse head(const std::string&) override { return next(); }
  AcmeResponse post_jose(const std::string&, const std::string& body) override {
    posted_headers.push_back(nlohmann::json::parse(base64url_decode(nlohmann::json::parse(body)["protected"])));
    return next();
  }

 private:
  AcmeResponse next() {
    REQUIRE(!answers.empty());
    AcmeResponse answer = answers.front();
    answers.pop_front();
    return answer;
  }
};

AcmeResponse answer(int status, const std::string& body, std::map<std::string, std::string> headers = {}) {
  return AcmeResponse{status, body, std::move(headers)};
}

const std::string kDirectory =
    R"({"newNonce": "https://ca/nonce", "newAccount": "https://ca/account", "newOrder": "https://ca/order"})";

}  // namespace

TEST_CASE("a certificate is renewed when a third of its lifetime is left", "[acme]") {
  CHECK(renewal_time(kEpoch, kEpoch + 90 * 24h) == kEpoch + 60 * 24h);  // Let's Encrypt's 90 days: day 60
  CHECK(renewal_time(kEpoch, kEpoch + 15s) == kEpoch + 10s);
  CHECK(renewal_time(kEpoch, kEpoch - 1s) == kEpoch);  // nonsense dates: now
}

TEST_CASE("failed attempts back off from 10 s to an hour, or what the server asks", "[acme]") {
  CHECK(retry_delay(1, 0s) == 10s);
  CHECK(retry_delay(2, 0s) == 20s);
  CHECK(retry_delay(4, 0s) == 80s);
  CHECK(retry_delay(30, 0s) == 3600s);
  CHECK(retry_delay(1, 300s) == 300s);             // Retry-After, when longer
  CHECK(retry_delay(1, 7 * 24h) == 24h);            // but at most a day
}

TEST_CASE("Retry-After is read as seconds or as an HTTP date", "[acme]") {
  const SystemTime now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  CHECK(parse_retry_after("120", now) == 120s);
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:51:37 GMT", now) == 120s);
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:40:00 GMT", now) == 0s);  // in the past
  CHECK(parse_retry_after("", now) == 0s);
  CHECK(parse_retry_after("soon", now) == 0s);
  CHECK(parse_retry_after("99999999999999", now) == 0s);
}

TEST_CASE("ACME settings: names, directory, e-mail and CA file are checked", "[acme]") {
  AcmeSettings settings;
  settings.names = {"www.example.com", "a-b.example.com"};
  CHECK(acme_settings_problem(settings).empty());
  auto problem_with_name = [&](const std::string& name) {
    AcmeSettings one = settings;
    one.names = {name};
    return acme_settings_problem(one);
  };
  CHECK_THAT(problem_with_name("*.example.com"), Catch::Contains("wildcards need the DNS-01 challenge"));
  for (const char* bad : {"localhost", "Example.com", "-a.example.com", "a..example.com", "a_b.example.com",
                          "example.com.", "a b.example.com"}) {
    CHECK_THAT(problem_with_name(bad), Catch::Contains("not a DNS name"));
  }
  CHECK_THAT(problem_with_name(std::string(64, 'a') + ".com"), Catch::Contains("not a DNS name"));
  AcmeSettings bad = settings;
  bad.directory_url = "acme.example.com/directory";
  CHECK_THAT(acme_settings_problem(bad), Catch::Contains("--acme-directory"));
  bad = settings;
  for (const char* email : {"no-at-sign", "a@b@c", "@example.com", "a b@example.com", "a@example.com,b@x"}) {
    bad.email = email;
    CHECK_THAT(acme_settings_problem(bad), Catch::Contains("not an e-mail address"));
  }
  bad = settings;
  bad.ca_file = "/nonexistent/ca.pem";
  CHECK_THAT(acme_settings_problem(bad), Catch::Contains("--acme-ca /nonexistent/ca.pem: No such file"));
}

TEST_CASE("the challenge board answers until a challenge is taken down", "[acme]") {
  ChallengeBoard board;
  board.post_http01("token-1", "token-1.thumbprint");
  board.post_tls_alpn01("a.example.com", PemPair{"cert", "key"});
  CHECK(board.http01("token-1") == std::optional<std::string>("token-1.thumbprint"));
  CHECK_FALSE(board.http01("token-2"));
  CHECK(board.tls_alpn01("a.example.com")->certificate == "cert");
  board.take_down("token-1");
  board.take_down("a.example.com");
  CHECK_FALSE(board.http01("token-1"));
  CHECK_FALSE(board.tls_alpn01("a.example.com"));
}

TEST_CASE("state files are written whole, 0600, and read back", "[acme]") {
  char pattern[] = "/tmp/lb_acme_unit_XXXXXX";
  REQUIRE(::mkdtemp(pattern) != nullptr);
  const std::string dir = std::string(pattern) + "/state";
  AcmeState state(dir);
  state.prepare();
  struct stat info {};
  REQUIRE(::stat(dir.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0700);

  const EcKey account = state.account_key();
  CHECK(state.account_key().thumbprint() == account.thumbprint());  // made once, then read
  REQUIRE(::stat((dir + "/account.key").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);

  CHECK_FALSE(state.load("a.example.com"));
  const EcKey key = EcKey::generate();
  const PemPair made = self_signed_certificate("a.example.com", 3600s);
  state.save("a.example.com", {key.private_pem(), made.certificate});  // not its key: refused on load
  CHECK_THROWS_WITH(state.load("a.example.com"), Catch::Contains("does not match"));
  state.save("a.example.com", {made.key, made.certificate});
  const std::optional<StoredCertificate> stored = state.load("a.example.com");
  REQUIRE(stored);
  CHECK(stored->chain_pem == made.certificate);
  REQUIRE(::stat((dir + "/a.example.com.pem").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  CHECK_FALSE(std::filesystem::exists(dir + "/a.example.com.pem.tmp"));

  CHECK_THROWS_WITH(AcmeState(dir + "/a.example.com.pem/sub").prepare(), Catch::Contains("--acme-state"));
  std::filesystem::remove_all(pattern);
}

TEST_CASE("a badNonce is retried with the nonce that came with it", "[acme]") {
  ScriptedServer server;
  server.answers = {
      answer(200, kDirectory),
      answer(200, "", {{"replay-nonce", "first"}}),
      answer(400, R"({"type": "urn:ietf:params:acme:error:badNonce"})", {{"replay-nonce", "second"}}),
      answer(201, "{}", {{"replay-nonce", "third"}, {"location", "https://ca/account/7"}}),
      answer(429, R"({"type": "urn:ietf:params:acme:error:rateLimited", "detail": "too many orders"})",
             {{"replay-nonce", "fourth"}, {"retry-after", "120"}}),
  };
  ChallengeBoard board;
  const AcmeAccount account{"https://ca/directory", "ops@example.com", EcKey::generate()};
  AcmeClient client(server, account, board, {ChallengeType::Http01}, [](std::chrono::milliseconds) { return true; });
  try {
    client.issue("a.example.com", EcKey::generate());
    FAIL("the refused order must throw");
  } catch (const AcmeError& e) {
    CHECK_THAT(e.what(), Catch::Contains("rateLimited: too many orders"));
    CHECK(e.retry_after == 120s);
  }
  REQUIRE(server.posted_headers.size() == 3);
  CHECK(server.posted_headers[0]["nonce"] == "first");
  CHECK(server.posted_headers[1]["nonce"] == "second");  // the retry, with the nonce of the refusal
  CHECK(server.posted_headers[1].contains("jwk"));       // no account yet: the key itself
  CHECK(server.posted_headers[2]["nonce"] == "third");
  CHECK(server.posted_headers[2]["kid"] == "https://ca/account/7");
  CHECK_FALSE(server.posted_headers[2].contains("jwk"));
}

TEST_CASE("an ACME server that keeps refusing nonces is given up on", "[acme]") {
  ScriptedServer server;
  server.answers = {answer(200, kDirectory), answer(200, "", {{"replay-nonce", "n"}})};
  for (int i = 0; i < 10; ++i) {
    server.answers.push_back(answer(400, R"({"type": "urn:ietf:params:acme:error:badNonce"})", {{"replay-nonce", "n"}}));
  }
  ChallengeBoard board;
  const AcmeAccount account{"https://ca/directory", "", EcKey::generate()};
  AcmeClient client(server, account, board, {ChallengeType::Http01}, [](std::chrono::milliseconds) { return true; });
  CHECK_THROWS_WITH(client.issue("a.example.com", EcKey::generate()), Catch::Contains("badNonce"));
  CHECK(server.posted_headers.size() == 10);
}
