#include "config/validation.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "config/resolved_config.h"
#include "config/secrets.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using ::testing::HasSubstr;

// A valid active-active project; tests break one rule at a time.
std::string GoodActiveActive() {
  return R"({
    "name": "orders-sync", "tags": ["prod"], "scenario": "ACTIVE_ACTIVE", "tenant_mode": "MYSQL",
    "data_dir": "/var/lib/duosync",
    "endpoints": {
      "a": {"region": "hangzhou", "host": "10.0.0.1", "port": 2881, "user": "u", "password": "p"},
      "b": {"region": "shanghai", "host": "10.0.0.2", "port": 2881, "user": "u", "password": "p"}},
    "forward": {"migration_types": ["SCHEMA", "FULL", "INCREMENTAL", "FULL_VERIFICATION"],
                "dml": ["INSERT", "UPDATE", "DELETE"], "ddl": true,
                "objects": {"rules": {"whitelist": ["shop.*"], "blacklist": ["shop.tmp_*"]}},
                "options": {"full_concurrency": "FAST", "retention_hours": 24}},
    "reverse": {"migration_types": ["INCREMENTAL"]}
  })";
}

std::string GoodMigration(const std::string& objects) {
  return absl::StrCat(R"({
    "name": "m", "scenario": "DATA_MIGRATION",
    "endpoints": {
      "a": {"host": "127.0.0.1", "port": 3306, "user": "u"},
      "b": {"host": "127.0.0.1", "port": 3307, "user": "u"}},
    "forward": {"migration_types": ["INCREMENTAL"], "objects": )", objects, "}}");
}

report::ValidationReport Check(const std::string& json) {
  auto parsed = ParseProjectJson(json);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return {};
  ApplyDefaults(&*parsed);
  return ValidateProject(*parsed);
}

// The single error of a config that breaks one rule.
report::Problem OnlyError(const std::string& json) {
  report::ValidationReport r = Check(json);
  EXPECT_EQ(r.errors_size(), 1) << r.DebugString();
  EXPECT_FALSE(r.ok());
  return r.errors_size() > 0 ? r.errors(0) : report::Problem();
}

std::string Replace(const std::string& json, const std::string& from, const std::string& to) {
  EXPECT_NE(json.find(from), std::string::npos) << from;
  return absl::StrReplaceAll(json, {{from, to}});
}

TEST(ValidationTest, GoodConfigsPass) {
  EXPECT_TRUE(Check(GoodActiveActive()).ok()) << Check(GoodActiveActive()).DebugString();
  EXPECT_TRUE(Check(GoodMigration(R"({"tables": [{"schema": "s", "table": "t"}]})")).ok());
  EXPECT_TRUE(Check(GoodMigration(R"({"import": "s.t1|s.t2|"})")).ok());
  EXPECT_TRUE(Check(GoodMigration(R"j({"tables": [{"schema": "s", "table": "t", "rename": "x.y",
      "where": "id > 10 AND status IN ('a','b')", "columns": ["id", "status"]}]})j")).ok());
}

TEST(ValidationTest, BinlogFilesAreOnlyASourceOfIncrementalOneWayProjects) {
  const std::string files = R"("a": {"binlog_dir": "/backups/binlogs"})";
  const std::string good =
      Replace(GoodMigration(R"({"import": "s.t"})"), R"("a": {"host": "127.0.0.1", "port": 3306, "user": "u"})", files);
  EXPECT_TRUE(Check(good).ok()) << Check(good).DebugString();  // no host, port or user needed
  auto full = OnlyError(Replace(good, R"(["INCREMENTAL"])", R"(["FULL", "INCREMENTAL"])"));
  EXPECT_EQ(full.field(), "forward.migration_types");
  EXPECT_THAT(full.message(), HasSubstr("only INCREMENTAL"));
  auto both = OnlyError(Replace(good, R"("binlog_dir")", R"("host": "h", "port": 1, "binlog_dir")"));
  EXPECT_EQ(both.field(), "endpoints.a.binlog_dir");
  auto on_b = Check(Replace(GoodMigration(R"({"import": "s.t"})"), R"("b": {"host": "127.0.0.1", "port": 3307, "user": "u"})",
                            R"("b": {"binlog_dir": "/x"})"));
  ASSERT_FALSE(on_b.ok());
  EXPECT_EQ(on_b.errors(0).field(), "endpoints.b.binlog_dir");
  auto aa = Check(Replace(GoodActiveActive(), R"("a": {"region": "hangzhou", "host": "10.0.0.1", "port": 2881, "user": "u", "password": "p"})",
                          R"("a": {"region": "hangzhou", "binlog_dir": "/x"})"));
  ASSERT_FALSE(aa.ok());
  EXPECT_EQ(aa.errors(0).field(), "endpoints.a.binlog_dir");
  EXPECT_THAT(aa.errors(0).message(), HasSubstr("active-active"));
}

TEST(ValidationTest, RecordRetentionNeedsADataDir) {
  const report::Problem p =
      OnlyError(Replace(GoodActiveActive(), R"("data_dir": "/var/lib/duosync",)", ""));
  EXPECT_EQ(p.field(), "data_dir");
  EXPECT_THAT(p.message(), HasSubstr("forward.options.retention_hours"));
  EXPECT_THAT(p.fix(), HasSubstr("data_dir"));
}

std::string Coordinated(const std::string& coordination) {
  return Replace(GoodActiveActive(), R"("data_dir": "/var/lib/duosync",)",
                 absl::StrCat(R"("data_dir": "/var/lib/duosync", "coordination": )", coordination, ","));
}

// A database endpoint's TLS: files that exist, both halves of a client certificate, and no
// "required false" that would do nothing while the certificate is verified.
TEST(ValidationTest, DatabaseTlsNeedsReadableFilesAndNoSilentPlaintext) {
  const std::string ca = ::testing::TempDir() + "/duosync_validation_ca.pem";
  { std::ofstream(ca) << "-----BEGIN CERTIFICATE-----\n"; }
  auto with_tls = [](const std::string& tls) {
    return absl::StrReplaceAll(GoodActiveActive(), {{R"("user": "u", "password": "p"},
      "b")", absl::StrCat(R"("user": "u", "password": "p", "tls": )", tls, R"(},
      "b")")}});
  };
  report::ValidationReport good = Check(with_tls(absl::StrCat(R"({"ca": ")", ca, R"("})")));
  EXPECT_TRUE(good.ok()) << good.DebugString();
  EXPECT_TRUE(Check(with_tls("{}")).ok());  // the system's CAs
  EXPECT_TRUE(Check(with_tls(R"({"verify_server_cert": false, "required": false})")).ok());
  EXPECT_EQ(OnlyError(with_tls(R"({"ca": "/no/such/ca.pem"})")).field(), "endpoints.a.tls.ca");
  EXPECT_EQ(OnlyError(with_tls(absl::StrCat(R"({"ca": ")", ca, R"(", "cert": ")", ca, R"("})"))).field(),
            "endpoints.a.tls.key");
  const report::Problem plaintext = OnlyError(with_tls(R"({"required": false})"));
  EXPECT_EQ(plaintext.field(), "endpoints.a.tls.required");
  EXPECT_THAT(plaintext.fix(), HasSubstr("verify_server_cert false"));
}

TEST(ValidationTest, CoordinationNeedsUsableEtcdEndpointsAndALeaseInRange) {
  report::ValidationReport good = Check(Coordinated(R"({"etcd_endpoints": ["http://10.0.0.5:2379"]})"));
  EXPECT_TRUE(good.ok()) << good.DebugString();
  // The record store is per host: said, not refused.
  EXPECT_THAT(good.DebugString(), HasSubstr("own record store"));
  EXPECT_EQ(OnlyError(Coordinated("{}")).field(), "coordination.etcd_endpoints");
  const report::Problem scheme = OnlyError(Coordinated(R"({"etcd_endpoints": ["10.0.0.5:2379"]})"));
  EXPECT_EQ(scheme.field(), "coordination.etcd_endpoints[0]");
  EXPECT_THAT(scheme.fix(), HasSubstr("http://host:port"));
  const report::Problem credentials =
      OnlyError(Coordinated(R"({"etcd_endpoints": ["http://root:etcd-url-secret@10.0.0.5:2379"]})"));
  EXPECT_THAT(credentials.message(), HasSubstr("credentials"));
  EXPECT_THAT(credentials.DebugString(), ::testing::Not(HasSubstr("etcd-url-secret")));
  EXPECT_EQ(OnlyError(Coordinated(R"({"etcd_endpoints": ["https://10.0.0.5:2379"]})")).field(),
            "coordination.tls.ca");
  const report::Problem ttl =
      OnlyError(Coordinated(R"({"etcd_endpoints": ["http://e:2379"], "lease_ttl_seconds": 1})"));
  EXPECT_EQ(ttl.field(), "coordination.lease_ttl_seconds");
  EXPECT_EQ(OnlyError(Coordinated(R"({"etcd_endpoints": ["http://e:2379"], "key_prefix": "duosync/"})")).field(),
            "coordination.key_prefix");
  const report::Problem password = OnlyError(
      Coordinated(R"({"etcd_endpoints": ["http://e:2379"], "user": "u", "password_env": "DUO_NO_SUCH_VAR"})"));
  EXPECT_EQ(password.field(), "coordination.password");
  EXPECT_THAT(password.message(), HasSubstr("DUO_NO_SUCH_VAR"));
  EXPECT_EQ(OnlyError(Coordinated(R"({"etcd_endpoints": ["http://e:2379"], "password": "etcd-secret"})")).field(),
            "coordination.user");
  EXPECT_THAT(Check(Coordinated(R"({"etcd_endpoints": ["http://e:2379"], "password": "etcd-secret"})")).DebugString(),
              ::testing::Not(HasSubstr("etcd-secret")));
}

TEST(ValidationTest, UnknownJsonFieldIsAnError) {
  auto parsed = ParseProjectJson(R"({"name": "x", "colour": "red"})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("colour"));
}

TEST(ValidationTest, NotJsonIsAnError) {
  EXPECT_FALSE(ParseProjectJson("{name: ").ok());
  EXPECT_FALSE(ParseProjectJson(R"({"scenario": "SIDEWAYS"})").ok());
}

TEST(ValidationTest, NameAtMost64Characters) {
  EXPECT_TRUE(Check(Replace(GoodActiveActive(), "orders-sync", std::string(64, 'n'))).ok());
  auto e = OnlyError(Replace(GoodActiveActive(), "orders-sync", std::string(65, 'n')));
  EXPECT_EQ(e.field(), "name");
  EXPECT_THAT(e.message(), HasSubstr("65"));
  EXPECT_EQ(OnlyError(Replace(GoodActiveActive(), "orders-sync", "")).field(), "name");
}

TEST(ValidationTest, EndpointsMustBeOfTheSameTenantMode) {
  auto e = OnlyError(Replace(GoodActiveActive(), R"("region": "shanghai",)",
                             R"("region": "shanghai", "tenant_mode": "ORACLE",)"));
  EXPECT_EQ(e.field(), "endpoints.b.tenant_mode");
  EXPECT_THAT(e.message(), HasSubstr("ORACLE"));
}

TEST(ValidationTest, ActiveActiveNeedsTwoRegions) {
  auto e = OnlyError(Replace(GoodActiveActive(), "shanghai", "HANGZHOU"));
  EXPECT_EQ(e.field(), "endpoints.b.region");
  EXPECT_THAT(e.message(), HasSubstr("different regions"));
}

TEST(ValidationTest, ReverseLinkIsIncrementalOnly) {
  auto e = OnlyError(Replace(GoodActiveActive(), R"("reverse": {"migration_types": ["INCREMENTAL"]})",
                             R"("reverse": {"migration_types": ["INCREMENTAL", "FULL"]})"));
  EXPECT_EQ(e.field(), "reverse.migration_types");
}

TEST(ValidationTest, ActiveActiveNeedsReverseLink) {
  auto e = OnlyError(Replace(GoodActiveActive(), R"(,
    "reverse": {"migration_types": ["INCREMENTAL"]})", ""));
  EXPECT_EQ(e.field(), "reverse");
}

TEST(ValidationTest, DataMigrationHasNoReverseLink) {
  auto e = OnlyError(Replace(GoodMigration(R"({"import": "s.t"})"), R"("forward")",
                             R"("reverse": {"migration_types": ["INCREMENTAL"]}, "forward")"));
  EXPECT_EQ(e.field(), "reverse");
}

TEST(ValidationTest, DdlOnOneLinkOnly) {
  auto e = OnlyError(Replace(GoodActiveActive(), R"("reverse": {"migration_types": ["INCREMENTAL"]})",
                             R"("reverse": {"migration_types": ["INCREMENTAL"], "ddl": true,
                                 "objects": {"rules": {"whitelist": ["shop.*"]}}})"));
  EXPECT_EQ(e.field(), "reverse.ddl");
  EXPECT_THAT(e.message(), HasSubstr("one link only"));
}

TEST(ValidationTest, FullVerificationNeedsAllDmlOps) {
  auto e = OnlyError(Replace(GoodActiveActive(), R"("dml": ["INSERT", "UPDATE", "DELETE"])",
                             R"("dml": ["INSERT", "UPDATE"])"));
  EXPECT_EQ(e.field(), "forward.dml");
  EXPECT_THAT(e.message(), HasSubstr("all three"));
}

TEST(ValidationTest, ChineseCharactersInNamesAreRefused) {
  auto e = OnlyError(GoodMigration(R"({"tables": [{"schema": "s", "table": "订单"}]})"));
  EXPECT_EQ(e.field(), "forward.objects.tables[0].table");
  EXPECT_THAT(e.message(), HasSubstr("Chinese"));
  e = OnlyError(GoodMigration(R"({"tables": [{"schema": "s", "table": "t", "columns": ["id", "名字"]}]})"));
  EXPECT_EQ(e.field(), "forward.objects.tables[0].columns[1]");
  e = OnlyError(Replace(GoodActiveActive(), "shop.*", "商店.*"));
  EXPECT_EQ(e.field(), "forward.objects.rules.whitelist[0]");
  // Full-width punctuation counts as Chinese too.
  EXPECT_EQ(OnlyError(GoodMigration(R"({"import": "s.t（1）"})")).field(), "forward.objects.import");
}

TEST(ValidationTest, DoubleDollarInDatabaseOrTableNameIsRefused) {
  auto e = OnlyError(GoodMigration(R"({"tables": [{"schema": "a$$b", "table": "t"}]})"));
  EXPECT_EQ(e.field(), "forward.objects.tables[0].schema");
  EXPECT_THAT(e.message(), HasSubstr("$$"));
  EXPECT_EQ(OnlyError(GoodMigration(R"({"import": "s.t$$x|"})")).field(), "forward.objects.import");
  // A single '$' is a legal MySQL identifier character; '$$' in a column name is allowed.
  EXPECT_TRUE(Check(GoodMigration(R"({"tables": [{"schema": "s$1", "table": "t", "columns": ["a$$b"]}]})")).ok());
}

TEST(ValidationTest, SpecifiedObjectsAndRulesAreExclusive) {
  auto e = OnlyError(GoodMigration(R"({"import": "s.t", "rules": {"whitelist": ["s.*"]}})"));
  EXPECT_EQ(e.field(), "forward.objects");
  EXPECT_THAT(e.message(), HasSubstr("exclusive"));
}

TEST(ValidationTest, DdlSyncRequiresMatchingRules) {
  auto json = Replace(GoodMigration(R"({"import": "s.t"})"), R"("migration_types": ["INCREMENTAL"])",
                      R"("migration_types": ["INCREMENTAL"], "ddl": true)");
  auto e = OnlyError(json);
  EXPECT_EQ(e.field(), "forward.ddl");
  EXPECT_THAT(e.message(), HasSubstr("matching rules"));
}

TEST(ValidationTest, IncrementalNeedsBinlogOnSource) {
  auto json = Replace(GoodMigration(R"({"import": "s.t"})"), R"("port": 3306, "user": "u")",
                      R"("port": 3306, "user": "u", "binlog_enabled": false)");
  auto e = OnlyError(json);
  EXPECT_EQ(e.field(), "forward.migration_types");
  EXPECT_THAT(e.message(), HasSubstr("binlog"));
}

TEST(ValidationTest, ManyObjectsWarn) {
  std::string import;
  for (int i = 0; i <= kManyObjectsWarning; ++i) absl::StrAppend(&import, "s.t", i, "|");
  auto r = Check(GoodMigration(absl::StrCat(R"({"import": ")", import, R"("})")));
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.warnings_size(), 1);
  EXPECT_THAT(r.warnings(0).message(), HasSubstr("10001 objects"));
}

TEST(ValidationTest, EndpointFieldsAreChecked) {
  EXPECT_EQ(OnlyError(Replace(GoodActiveActive(), R"("port": 2881, "user": "u", "password": "p"},
      "b")", R"("port": 70000, "user": "u", "password": "p"},
      "b")")).field(), "endpoints.a.port");
  EXPECT_EQ(OnlyError(Replace(GoodActiveActive(), R"("host": "10.0.0.2", )", "")).field(),
            "endpoints.b.host");
}

TEST(ValidationTest, DuplicateTablesAndDestinationsAreRefused) {
  EXPECT_THAT(OnlyError(GoodMigration(R"({"tables": [{"schema": "s", "table": "t"}], "import": "S.T"})")).message(),
              HasSubstr("more than once"));
  EXPECT_THAT(OnlyError(GoodMigration(R"({"tables": [{"schema": "s", "table": "a", "rename": "c"},
      {"schema": "s", "table": "b", "rename": "c"}]})")).message(), HasSubstr("two tables"));
}

TEST(ValidationTest, RowFiltersOutsideTheSubsetAreRefused) {
  auto e = OnlyError(GoodMigration(R"j({"tables": [{"schema": "s", "table": "t", "where": "id > (SELECT 1)"}]})j"));
  EXPECT_EQ(e.field(), "forward.objects.tables[0].where");
  e = OnlyError(GoodMigration(R"({"tables": [{"schema": "s", "table": "t", "where": "upper(name) = 'X'"}]})"));
  EXPECT_THAT(e.message(), HasSubstr("functions are not supported"));
  e = OnlyError(GoodMigration(R"({"tables": [{"schema": "s", "table": "t", "where": "x = 1", "columns": ["id"]}]})"));
  EXPECT_THAT(e.message(), HasSubstr("not among the chosen columns"));
}

TEST(ValidationTest, PatternsMustBeQualified) {
  auto e = OnlyError(Replace(GoodActiveActive(), R"("blacklist": ["shop.tmp_*"])", R"("blacklist": ["tmp_*"])"));
  EXPECT_EQ(e.field(), "forward.objects.rules.blacklist[0]");
}

TEST(ValidationTest, BadStartGtidIsRefused) {
  auto e = OnlyError(Replace(GoodMigration(R"({"import": "s.t"})"), R"("migration_types": ["INCREMENTAL"])",
                             R"("migration_types": ["INCREMENTAL"], "start_gtid": "0-1")"));
  EXPECT_EQ(e.field(), "forward.start_gtid");
}

TEST(ValidationTest, EveryErrorIsReportedAtOnce) {
  auto r = Check(R"({"name": "", "endpoints": {}, "forward": {"objects": {}}})");
  EXPECT_GE(r.errors_size(), 4);
  for (const auto& e : r.errors()) {
    EXPECT_FALSE(e.field().empty());
    EXPECT_FALSE(e.fix().empty());
  }
  EXPECT_THAT(SummarizeErrors(r), HasSubstr("endpoints.a"));
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

using testing::StatusIs;

// No error about a config quotes its text: a password may stand anywhere in it.
TEST(SecretsTest, JsonSyntaxErrorsGiveThePlaceNotTheText) {
  const std::string json = "{\n  \"name\": \"x\",\n  \"password\": \"hunter2secret\" \"port\": 1}";
  auto parsed = ParseProjectJson(json);
  ASSERT_FALSE(parsed.ok());
  const std::string message(parsed.status().message());
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_THAT(message, HasSubstr("line 3, column"));
}

TEST(SecretsTest, TypeErrorsLeaveTheValueOut) {
  auto parsed = ParseProjectJson(R"({"endpoints": {"a": {"password": 86421357}}})");
  ASSERT_FALSE(parsed.ok());
  const std::string message(parsed.status().message());
  EXPECT_EQ(message.find("86421357"), std::string::npos) << message;
  EXPECT_THAT(message, HasSubstr("endpoints.a.password"));
  auto port = ParseProjectJson(R"({"endpoints": {"a": {"port": "hunter2secret"}}})");
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(std::string(port.status().message()).find("hunter2"), std::string::npos) << port.status();
}

TEST(SecretsTest, PasswordComesFromTheEnvironmentOrAFile) {
  config::Endpoint e;
  e.set_password_env("DUOSYNC_TEST_PASSWORD_XYZ");
  unsetenv("DUOSYNC_TEST_PASSWORD_XYZ");
  EXPECT_THAT(ReadPassword(e).status(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                                 "DUOSYNC_TEST_PASSWORD_XYZ"));
  setenv("DUOSYNC_TEST_PASSWORD_XYZ", "from-env", 1);
  EXPECT_EQ(*ReadPassword(e), "from-env");
  EXPECT_EQ(ConnectOptionsFor(e).password, "from-env");
  unsetenv("DUOSYNC_TEST_PASSWORD_XYZ");

  config::Endpoint f;
  const std::string path = ::testing::TempDir() + "/duosync_password_test";
  {
    std::ofstream out(path);
    out << "from-file\nsecond line\n";
  }
  f.set_password_file(path);
  EXPECT_EQ(*ReadPassword(f), "from-file");
  f.set_password_file(path + ".missing");
  EXPECT_THAT(ReadPassword(f).status(), StatusIs(absl::StatusCode::kFailedPrecondition, "password_file"));
  f.set_password("also");
  EXPECT_THAT(ReadPassword(f).status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SecretsTest, ValidationNamesAnUnsetPasswordVariable) {
  unsetenv("DUOSYNC_TEST_UNSET_PW");
  const report::Problem e = OnlyError(Replace(GoodActiveActive(), R"("user": "u", "password": "p"},
      "b")", R"("user": "u", "password_env": "DUOSYNC_TEST_UNSET_PW"},
      "b")"));
  EXPECT_EQ(e.field(), "endpoints.a.password");
  EXPECT_THAT(e.message(), HasSubstr("DUOSYNC_TEST_UNSET_PW"));
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

std::string WithConflicts(const std::string& conflicts) {
  return Replace(GoodActiveActive(), R"("reverse": {"migration_types": ["INCREMENTAL"]})",
                 absl::StrCat(R"("reverse": {"migration_types": ["INCREMENTAL"]},
                                 "active_active": {"conflicts": )", conflicts, "}"));
}

TEST(ConflictValidationTest, OverwriteIsRefusedForActiveActiveWithTheReason) {
  const report::Problem p = OnlyError(WithConflicts(R"({"policy": "OVERWRITE"})"));
  EXPECT_EQ(p.field(), "active_active.conflicts.policy");
  EXPECT_THAT(p.message(), HasSubstr("swap rows"));
  EXPECT_THAT(p.fix(), HasSubstr("REGION_PRIORITY"));
  const report::Problem t = OnlyError(WithConflicts(
      R"({"policy": "IGNORE", "tables": [{"schema": "shop", "table": "t", "policy": "OVERWRITE"}]})"));
  EXPECT_EQ(t.field(), "active_active.conflicts.tables[0].policy");
}

TEST(ConflictValidationTest, LastWriterWinsNeedsAColumnAndThePriorityRegionMustExist) {
  EXPECT_EQ(OnlyError(WithConflicts(R"({"policy": "LAST_WRITER_WINS"})")).field(),
            "active_active.conflicts.column");
  EXPECT_TRUE(Check(WithConflicts(R"({"policy": "LAST_WRITER_WINS", "column": "ver"})")).ok());
  EXPECT_TRUE(Check(WithConflicts(
      R"({"policy": "IGNORE", "tables": [{"schema": "s", "table": "t", "policy": "LAST_WRITER_WINS",
          "column": "ver"}]})")).ok());
  const report::Problem p = OnlyError(WithConflicts(R"({"policy": "REGION_PRIORITY", "priority_region": "mars"})"));
  EXPECT_EQ(p.field(), "active_active.conflicts.priority_region");
  EXPECT_THAT(p.message(), HasSubstr("hangzhou"));
  EXPECT_TRUE(Check(WithConflicts(R"({"policy": "REGION_PRIORITY", "priority_region": "shanghai"})")).ok());
  EXPECT_EQ(OnlyError(WithConflicts(R"({"policy": "REGION_PRIORITY", "log_retention_days": 36501})")).field(),
            "active_active.conflicts.log_retention_days");
  EXPECT_TRUE(Check(WithConflicts(R"({"policy": "REGION_PRIORITY", "log_retention_days": 365})")).ok());
}

TEST(ConflictValidationTest, ThePriorityRegionDecidesWhichLinkBringsTheWinningChanges) {
  auto resolve = [](const std::string& json) {
    auto parsed = ParseProjectJson(json);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    ApplyDefaults(&*parsed);
    return std::make_pair(ResolveLink(*parsed, LinkDirection::kForward).incoming_has_priority,
                          ResolveLink(*parsed, LinkDirection::kReverse).incoming_has_priority);
  };
  EXPECT_EQ(resolve(WithConflicts("{}")), std::make_pair(true, false)) << "endpoint a's region by default";
  EXPECT_EQ(resolve(WithConflicts(R"({"priority_region": "SHANGHAI"})")), std::make_pair(false, true));
}

}  // namespace
}  // namespace duosync
