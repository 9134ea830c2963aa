// TLS to MariaDB servers started with certificates made at test time: every connection (queries,
// the full copy, the binlog stream) is encrypted and checks the server's certificate; a wrong CA
// and a server without TLS are refused, never fallen back from.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/resolved_config.h"
#include "config/validation.h"
#include "duosync/project.h"
#include "harness/mariadb_server.h"
#include "harness/test_certificates.h"
#include "project/precheck.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Exec;
using testing::Rows;

constexpr char kTlsUser[] = "tls_only";
constexpr char kTlsPassword[] = "tls-only-secret";

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto certs = harness::TestCertificates::Make();
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = new harness::TestCertificates(*certs);
    auto servers = harness::StartServers(
        2, 61, {"--ssl-ca=" + certs_->ca, "--ssl-cert=" + certs_->server_cert,
                "--ssl-key=" + certs_->server_key});
    ASSERT_TRUE(servers.ok()) << servers.status();
    servers_ = new std::vector<std::unique_ptr<harness::MariaDbServer>>(std::move(*servers));
    for (auto& server : *servers_) {
      // A user that can only connect over TLS: any plaintext connection of ours would fail.
      auto conn = server->Connect();
      ASSERT_TRUE(conn.ok()) << conn.status();
      Exec(conn->get(), absl::StrCat("CREATE USER '", kTlsUser, "'@'%' IDENTIFIED BY '", kTlsPassword,
                                     "' REQUIRE SSL; GRANT ALL PRIVILEGES ON *.* TO '", kTlsUser,
                                     "'@'%' WITH GRANT OPTION"));
    }
  }
  static void TearDownTestSuite() {
    delete servers_;
    servers_ = nullptr;
    if (certs_ != nullptr) std::system(absl::StrCat("rm -rf ", certs_->dir).c_str());
    delete certs_;
    certs_ = nullptr;
  }

  static harness::MariaDbServer& A() { return *(*servers_)[0]; }
  static harness::MariaDbServer& B() { return *(*servers_)[1]; }

  // The endpoint of `server` as the TLS-only user, with `tls` as its tls section.
  static std::string Endpoint(const harness::MariaDbServer& server, const std::string& tls) {
    return absl::StrCat("{\"region\":\"", server.region(), "\",\"host\":\"127.0.0.1\",\"port\":",
                        server.port(), ",\"user\":\"", kTlsUser, "\",\"password\":\"", kTlsPassword,
                        "\",\"tls\":", tls, "}");
  }

  static std::string Config(const std::string& name, const std::string& endpoint_a,
                            const std::string& endpoint_b) {
    return absl::StrCat(R"({"name":")", name, R"(","endpoints":{"a":)", endpoint_a, R"(,"b":)",
                        endpoint_b, R"(},"forward":{"migration_types":["FULL","INCREMENTAL"],)",
                        R"("objects":{"import":")", name, R"(.t"}}})");
  }

  static report::PrecheckReport Precheck(const std::string& json) {
    auto parsed = ParseProjectJson(json);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    ApplyDefaults(&*parsed);
    report::ValidationReport valid = ValidateProject(*parsed);
    EXPECT_TRUE(valid.ok()) << valid.DebugString();
    return RunPrecheck(ResolveProject(*parsed));
  }

  static std::vector<const report::Check*> Checks(const report::PrecheckReport& r,
                                                  const std::string& name) {
    std::vector<const report::Check*> out;
    for (const auto& c : r.checks()) {
      if (c.name() == name) out.push_back(&c);
    }
    return out;
  }

  static void CreateTable(const std::string& db) {
    for (auto* server : {&A(), &B()}) {
      auto conn = server->Connect();
      ASSERT_TRUE(conn.ok());
      Exec(conn->get(), absl::StrCat("DROP DATABASE IF EXISTS ", db, "; CREATE DATABASE ", db,
                                     "; CREATE TABLE ", db, ".t (id INT PRIMARY KEY, v VARCHAR(40))"));
    }
  }

  static harness::TestCertificates* certs_;
  static std::vector<std::unique_ptr<harness::MariaDbServer>>* servers_;
};

harness::TestCertificates* TlsTest::certs_ = nullptr;
std::vector<std::unique_ptr<harness::MariaDbServer>>* TlsTest::servers_ = nullptr;

// With a CA, precheck reports the negotiated cipher, and the full copy and the incremental stage
// (binlog stream included) work for a user the servers only admit over TLS.
TEST_F(TlsTest, EveryConnectionIsEncryptedAndVerified) {
  const std::string db = "tls_sync";
  CreateTable(db);
  auto a = A().Connect();
  auto b = B().Connect();
  ASSERT_TRUE(a.ok() && b.ok());
  for (int i = 1; i <= 50; ++i) {
    Exec(a->get(), absl::StrCat("INSERT INTO ", db, ".t VALUES (", i, ", 'copied-", i, "')"));
  }
  const std::string tls = absl::StrCat(R"({"ca":")", certs_->ca, R"("})");
  const std::string config = Config(db, Endpoint(A(), tls), Endpoint(B(), tls));

  report::PrecheckReport r = Precheck(config);
  EXPECT_TRUE(r.ok()) << r.DebugString();
  auto checks = Checks(r, "tls");
  ASSERT_EQ(checks.size(), 2u) << r.DebugString();
  for (const report::Check* c : checks) {
    EXPECT_EQ(c->status(), report::PASSED) << c->DebugString();
    EXPECT_TRUE(absl::StrContains(c->message(), "TLSv1")) << c->message();
    EXPECT_TRUE(absl::StrContains(c->message(), "verified")) << c->message();
  }

  auto project = Project::Create(config);
  ASSERT_TRUE(project.ok()) << project.status();
  ASSERT_TRUE((*project)->Start().ok());
  // The copy is done before these are written: they can only come through the binlog stream.
  ASSERT_TRUE(testing::WaitFor(
      [&] { return testing::LinkStatusOf(**project).stage() == "incremental"; }, absl::Seconds(30)))
      << (*project)->StatusJson();
  for (int i = 51; i <= 80; ++i) {
    Exec(a->get(), absl::StrCat("INSERT INTO ", db, ".t VALUES (", i, ", 'streamed-", i, "')"));
  }
  Exec(a->get(), absl::StrCat("UPDATE ", db, ".t SET v='updated' WHERE id=3"));
  const std::string query = absl::StrCat("SELECT * FROM ", db, ".t ORDER BY id");
  testing::WaitFor([&] { return Rows(a->get(), query) == Rows(b->get(), query); }, absl::Seconds(30));
  EXPECT_EQ(Rows(a->get(), query), Rows(b->get(), query)) << (*project)->StatusJson();
  EXPECT_EQ(Rows(b->get(), query).size(), 80u);
  const std::string status = (*project)->StatusJson();
  EXPECT_FALSE(absl::StrContains(status, kTlsPassword));
  EXPECT_TRUE((*project)->Stop().ok());
}

// A server certificate signed by another CA is refused: precheck names the certificate, and a
// started project does not apply anything (nothing is read from or written to an unverified peer).
TEST_F(TlsTest, AWrongCaIsRefused) {
  const std::string db = "tls_wrong_ca";
  CreateTable(db);
  const std::string good = absl::StrCat(R"({"ca":")", certs_->ca, R"("})");
  const std::string wrong = absl::StrCat(R"({"ca":")", certs_->other_ca, R"("})");
  const std::string config = Config(db, Endpoint(A(), good), Endpoint(B(), wrong));

  report::PrecheckReport r = Precheck(config);
  EXPECT_FALSE(r.ok());
  bool refused_b = false;
  for (const report::Check* c : Checks(r, "connectivity")) {
    if (c->endpoint() == "b") {
      refused_b = c->status() == report::FAILED;
      EXPECT_TRUE(absl::StrContains(c->message(), "certificate")) << c->message();
      EXPECT_FALSE(absl::StrContains(c->message(), kTlsPassword));
    } else {
      EXPECT_EQ(c->status(), report::PASSED) << c->DebugString();
    }
  }
  EXPECT_TRUE(refused_b) << r.DebugString();

  auto project = Project::Create(config);
  ASSERT_TRUE(project.ok()) << project.status();
  absl::Status started = (*project)->Start();
  if (started.ok()) {
    absl::Status ended = (*project)->Wait(absl::Seconds(30));
    EXPECT_FALSE(ended.ok()) << "a link to an unverified server must stop";
    EXPECT_FALSE(absl::IsDeadlineExceeded(ended)) << (*project)->StatusJson();
    (void)(*project)->Stop();
  } else {
    EXPECT_TRUE(absl::StrContains(started.message(), "certificate")) << started;
  }

  // Without a CA and without verification it connects, encrypted, and precheck warns.
  const std::string unverified = R"({"verify_server_cert":false})";
  r = Precheck(Config(db, Endpoint(A(), good), Endpoint(B(), unverified)));
  EXPECT_TRUE(r.ok()) << r.DebugString();
  for (const report::Check* c : Checks(r, "tls")) {
    if (c->endpoint() != "b") continue;
    EXPECT_EQ(c->status(), report::WARNING);
    EXPECT_TRUE(absl::StrContains(c->message(), "not verified")) << c->message();
  }
}

// A server that offers no TLS (the shared test servers run without certificates) is refused when
// TLS is configured, verified or not; only required false lets the connection go plaintext, and
// precheck says so.
TEST_F(TlsTest, AServerWithoutTlsIsRefused) {
  const harness::MariaDbServer& plain = testing::ServerPair::A();
  const std::string user = absl::StrCat(R"("user":")", harness::MariaDbServer::kUser,
                                        R"(","password":")", harness::MariaDbServer::kPassword, "\"");
  auto endpoint = [&](const std::string& tls) {
    return absl::StrCat("{\"region\":\"r1\",\"host\":\"127.0.0.1\",\"port\":", plain.port(), ",", user,
                        ",\"tls\":", tls, "}");
  };
  const std::string b = Endpoint(B(), absl::StrCat(R"({"ca":")", certs_->ca, R"("})"));
  for (const std::string& tls : {absl::StrCat(R"({"ca":")", certs_->ca, R"("})"),
                                 std::string(R"({"verify_server_cert":false})")}) {
    report::PrecheckReport r = Precheck(Config("tls_plain", endpoint(tls), b));
    EXPECT_FALSE(r.ok()) << tls;
    for (const report::Check* c : Checks(r, "connectivity")) {
      if (c->endpoint() != "a") continue;
      EXPECT_EQ(c->status(), report::FAILED) << tls;
      EXPECT_TRUE(absl::StrContains(c->message(), "TLS") || absl::StrContains(c->message(), "SSL"))
          << c->message();
    }
  }
  report::PrecheckReport r = Precheck(
      Config("tls_plain", endpoint(R"({"verify_server_cert":false,"required":false})"), b));
  bool warned = false;
  for (const report::Check* c : Checks(r, "tls")) {
    if (c->endpoint() == "a") {
      warned = c->status() == report::WARNING && absl::StrContains(c->message(), "plaintext");
    }
  }
  EXPECT_TRUE(warned) << r.DebugString();
}

}  // namespace
}  // namespace duosync
