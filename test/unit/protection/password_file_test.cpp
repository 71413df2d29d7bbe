// Basic auth's htpasswd parser, hash checks and strict Basic credentials.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "lb/protection/password_file.h"

using namespace lb;

namespace {

// Made with `openssl passwd -5/-6 -salt abcdefgh` and `htpasswd -nbB -C 4`.
const std::string kSha256 = "$5$abcdefgh$AVKsPBNtNFkXXKvvkrPMobKUZbm0i7P2XfVbwGW9BS/";  // secret5
const std::string kSha512 =
    "$6$abcdefgh$xCmU6eXePqd8uT3.jYlk3Fgv/roflqiCi/twHrvHhPTT4qT0rTqu/3ZTFEf6uqFcl7eKyk81ngZEadU/ehEy51";  // secret6
const std::string kBcrypt = "$2y$04$FAk8.joVstOvSvrMUQxssuYOHWNG3MTftmkXlNrCYMrF/DnvifYgW";  // secretb

std::string parse_error(const std::string& text) {
  try {
    PasswordFile::parse(text, "users.htpasswd");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

// Each accepted hash type verifies its password and nothing else.
TEST_CASE("password file: bcrypt and SHA-crypt entries verify", "[basic-auth]") {
  const PasswordFile file = PasswordFile::parse(
      "# comment\n\nalice:" + kSha256 + "\r\ncarol:" + kSha512 + "\nbob:" + kBcrypt + "\nbeth:" +
          "$2b$" + kBcrypt.substr(4) + "\n",
      "users.htpasswd");
  CHECK(file.size() == 4);
  CHECK(file.verify("alice", "secret5"));
  CHECK_FALSE(file.verify("alice", "secret6"));
  CHECK_FALSE(file.verify("alice", "secret5 "));
  CHECK(file.verify("carol", "secret6"));
  CHECK(file.verify("bob", "secretb"));
  CHECK(file.verify("beth", "secretb"));  // $2b$ is the same algorithm
  CHECK_FALSE(file.verify("bob", "secret"));
  CHECK_FALSE(file.verify("nobody", "secret5"));
  CHECK_FALSE(file.verify("ALICE", "secret5"));
  CHECK_FALSE(file.verify("alice", std::string("secret5\0x", 9)));
  CHECK_FALSE(PasswordFile::parse("", "empty").verify("alice", "secret5"));
}

// Weak, unknown and malformed entries are refused with the file and line.
TEST_CASE("password file: weak and unknown encodings are refused by line", "[basic-auth]") {
  CHECK(parse_error("ok:" + kSha256 + "\nmal:$apr1$vivXHJe6$qKbykVPFnv0VLtdt3JsPN1\n") ==
        "users file users.htpasswd line 2: MD5 hashes are not accepted; use bcrypt (htpasswd -B) or SHA-crypt "
        "(openssl passwd -5 or -6)");
  CHECK(parse_error("m:$1$abc$def\n").find("line 1: MD5 hashes are not accepted") != std::string::npos);
  CHECK(parse_error("sha:{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI=").find("line 1: SHA-1 hashes are not accepted") !=
        std::string::npos);
  CHECK(parse_error("plain:x").find("line 1: plain-text and DES passwords are not accepted") != std::string::npos);
  CHECK(parse_error("des:rl0uE7SLb1rXA").find("plain-text and DES") != std::string::npos);
  CHECK(parse_error("y:$y$j9T$abc$def").find("line 1: unknown password encoding") != std::string::npos);
  CHECK(parse_error("b:$2y$10$short").find("line 1: malformed bcrypt hash") != std::string::npos);
  CHECK(parse_error("b:$2y$99" + kBcrypt.substr(6)).find("bcrypt cost must be 04-31") != std::string::npos);
  CHECK(parse_error("s:" + kSha256 + "x").find("malformed SHA-crypt hash") != std::string::npos);
  CHECK(parse_error("s:$5$rounds=$abc$x").find("malformed SHA-crypt rounds") != std::string::npos);
  CHECK(parse_error("nocolon").find("line 1: expected user:hash") != std::string::npos);
  CHECK(parse_error(":" + kSha256).find("expected user:hash") != std::string::npos);
  CHECK(parse_error("a:" + kSha256 + "\na:" + kSha512).find("line 2: user 'a' is listed twice") != std::string::npos);
  CHECK(parse_error("a\tb:" + kSha256).find("line 1: control byte") != std::string::npos);
}

// Missing files are refused naming the file.
TEST_CASE("password file: an unreadable file is refused", "[basic-auth]") {
  try {
    PasswordFile::load("/nonexistent/users");
    FAIL("loaded");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "users file /nonexistent/users: cannot read it (No such file or directory)");
  }
  CHECK_THROWS_WITH(PasswordFile::load("/tmp"), "users file /tmp: not a regular file");
}

// Basic credentials: strict base64, one scheme, a colon, no control bytes.
TEST_CASE("basic credentials are decoded strictly", "[basic-auth]") {
  auto credentials = parse_basic_credentials("Basic YWxpY2U6c2VjcmV0NQ==");  // alice:secret5
  REQUIRE(credentials);
  CHECK(credentials->user == "alice");
  CHECK(credentials->password == "secret5");
  credentials = parse_basic_credentials("basic   YTpiOmM=");  // a:b:c, the password keeps its colon
  REQUIRE(credentials);
  CHECK(credentials->user == "a");
  CHECK(credentials->password == "b:c");
  CHECK(parse_basic_credentials("BASIC Og==")->user.empty());  // ":" alone: empty user and password

  CHECK_FALSE(parse_basic_credentials("Bearer YWxpY2U6c2VjcmV0NQ=="));
  CHECK_FALSE(parse_basic_credentials("Basic"));
  CHECK_FALSE(parse_basic_credentials("Basic "));
  CHECK_FALSE(parse_basic_credentials("BasicYWxpY2U6eA=="));
  CHECK_FALSE(parse_basic_credentials("Basic YWxpY2U6c2VjcmV0NQ"));     // padding missing
  CHECK_FALSE(parse_basic_credentials("Basic YWxpY2U6c2VjcmV0NQ=="  " "));  // trailing space
  CHECK_FALSE(parse_basic_credentials("Basic YWxp Y2U6c2VjcmV0NQ=="));  // space inside
  CHECK_FALSE(parse_basic_credentials("Basic YWxpY2U6c2VjcmV0NR=="));   // spare bits set: not canonical
  CHECK_FALSE(parse_basic_credentials("Basic YW=xY2U6c2VjcmV0NQ=="));   // '=' inside
  CHECK_FALSE(parse_basic_credentials("Basic YWxpY2U6c2VjcmV0NQ==="));
  CHECK_FALSE(parse_basic_credentials("Basic YWxpY2U-c2VjcmV0NQ=="));   // base64url is not base64
  CHECK_FALSE(parse_basic_credentials("Basic YWxpY2U="));               // "alice": no colon
  CHECK_FALSE(parse_basic_credentials("Basic YQlYOmI="));               // a\tX:b: a control byte
}

// The realm goes in a quoted-string: nothing that could end or escape it.
TEST_CASE("basic auth realm is checked", "[basic-auth]") {
  CHECK(realm_problem("Staff only").empty());
  CHECK_FALSE(realm_problem("").empty());
  CHECK_FALSE(realm_problem("a\"b").empty());
  CHECK_FALSE(realm_problem("a\\b").empty());
  CHECK_FALSE(realm_problem("a\r\nb").empty());
}
