#include "project/precheck.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "config/resolved_config.h"
#include "config/validation.h"
#include "duosync/project.h"
#include "harness/delay_proxy.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Connect;
using testing::Exec;
using testing::ServerPair;

class PrecheckTest : public testing::TwoServerTest {
 protected:
  PrecheckTest() : TwoServerTest("pc") {}
  std::string DatabaseName() const override { return "pc"; }
  Side SideA() const override { return Tables(); }
  Side SideB() const override { return Tables(); }
  static Side Tables() {
    return Side::WithSql("CREATE TABLE orders (id INT PRIMARY KEY, total DECIMAL(10,2));"
                         "CREATE TABLE by_code (code VARCHAR(10) NOT NULL, v INT, UNIQUE KEY (code))");
  }
  void TearDown() override {
    Exec(a_.get(), "SET GLOBAL binlog_format=ROW; SET GLOBAL binlog_row_image=FULL");
    Exec(a_.get(), "DROP USER IF EXISTS 'limited'@'%'");
    TwoServerTest::TearDown();
  }

  // A project syncing `objects` (JSON); A's user is `user_a` when given.
  std::string PrecheckConfig(const std::string& objects, const std::string& user_a = "",
                             bool schema_migration = false) {
    testing::ConfigBuilder config("pc");
    config.Objects(objects);
    if (!user_a.empty()) {
      config.EndpointA(absl::StrCat("{\"region\":\"r1\",\"host\":\"127.0.0.1\",\"port\":", ServerPair::A().port(),
                                    ",\"user\":\"", user_a, "\",\"password\":\"pw\"}"));
    }
    if (schema_migration) config.MigrationTypes({config::SCHEMA, config::INCREMENTAL});
    return config.Json();
  }

  report::PrecheckReport Run(const std::string& json) {
    auto parsed = ParseProjectJson(json);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    ApplyDefaults(&*parsed);
    EXPECT_TRUE(ValidateProject(*parsed).ok());
    return RunPrecheck(ResolveProject(*parsed));
  }

  static const report::Check* Find(const report::PrecheckReport& r, const std::string& name) {
    for (const auto& c : r.checks()) {
      if (c.name() == name) return &c;
    }
    return nullptr;
  }
};

TEST_F(PrecheckTest, PassesOnAProperSetup) {
  auto r = Run(PrecheckConfig(R"({"rules": {"whitelist": ["pc.*"]}})"));
  EXPECT_TRUE(r.ok()) << r.DebugString();
  for (const auto& c : r.checks()) EXPECT_EQ(c.status(), report::PASSED) << c.DebugString();
  ASSERT_NE(Find(r, "binlog_format"), nullptr);
  EXPECT_NE(Find(r, "privilege_binlog"), nullptr);
}

// A row filter is checked against the columns' types: a literal the server would read otherwise
// (an impossible date, a word) is named at precheck, before any row is copied.
TEST_F(PrecheckTest, FailsOnARowFilterItsColumnTypesCannotTake) {
  Exec(a_.get(), "CREATE TABLE pc.events (id INT PRIMARY KEY, at DATE)");
  Exec(b_.get(), "CREATE TABLE pc.events (id INT PRIMARY KEY, at DATE)");
  auto good = Run(PrecheckConfig(R"({"tables": [{"schema": "pc", "table": "events", "where": "at >= '2024-1-5'"}]})"));
  EXPECT_EQ(Find(good, "columns"), nullptr) << good.DebugString();  // said only when wrong
  EXPECT_TRUE(good.ok()) << good.DebugString();
  for (const char* where : {"at >= '2024-02-30'", "at > 'yesterday'"}) {
    auto r = Run(PrecheckConfig(absl::StrCat(R"({"tables": [{"schema": "pc", "table": "events", "where": ")",
                                             where, R"("}]})")));
    const report::Check* c = Find(r, "columns");
    ASSERT_NE(c, nullptr) << where;
    EXPECT_EQ(c->status(), report::FAILED) << where;
    EXPECT_NE(c->message().find("pc.events"), std::string::npos) << c->message();
  }
}

TEST_F(PrecheckTest, FailsOnAGeneratedColumnChosenWithoutItsBase) {
  Exec(a_.get(), "CREATE TABLE pc.priced (id INT PRIMARY KEY, price INT, total INT AS (price * 2) VIRTUAL)");
  auto good = Run(PrecheckConfig(R"({"tables": [{"schema": "pc", "table": "priced", "columns": ["id", "price"]}]})"));
  EXPECT_EQ(Find(good, "columns"), nullptr) << good.DebugString();  // leaving the generated one out is fine
  auto r = Run(PrecheckConfig(R"({"tables": [{"schema": "pc", "table": "priced", "columns": ["id", "total"]}]})"));
  const report::Check* c = Find(r, "columns");
  ASSERT_NE(c, nullptr) << r.DebugString();
  EXPECT_EQ(c->status(), report::FAILED);
  EXPECT_NE(c->message().find("total (from price)"), std::string::npos) << c->message();
}

TEST_F(PrecheckTest, FailsOnStatementBinlogFormat) {
  Exec(a_.get(), "SET GLOBAL binlog_format=STATEMENT");
  auto r = Run(PrecheckConfig(R"({"import": "pc.orders"})"));
  EXPECT_FALSE(r.ok());
  const report::Check* c = Find(r, "binlog_format");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status(), report::FAILED);
  EXPECT_EQ(c->endpoint(), "a");
  EXPECT_NE(c->message().find("STATEMENT"), std::string::npos);
  EXPECT_NE(c->fix().find("ROW"), std::string::npos);
}

TEST_F(PrecheckTest, FailsOnMinimalRowImage) {
  Exec(a_.get(), "SET GLOBAL binlog_row_image=MINIMAL");
  auto r = Run(PrecheckConfig(R"({"import": "pc.orders"})"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Find(r, "binlog_row_image")->status(), report::FAILED);
  EXPECT_NE(Find(r, "binlog_row_image")->message().find("MINIMAL"), std::string::npos);
}

TEST_F(PrecheckTest, FailsOnMissingPrivileges) {
  // INSERT makes pc.orders visible to the user without letting it read the rows.
  Exec(a_.get(), "CREATE USER 'limited'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON pc.by_code TO "
                 "'limited'@'%'; GRANT INSERT ON pc.orders TO 'limited'@'%'");
  auto r = Run(PrecheckConfig(R"({"import": "pc.orders|pc.by_code"})", "limited"));
  EXPECT_FALSE(r.ok());
  const report::Check* read = Find(r, "privilege_read");
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->status(), report::FAILED);
  ASSERT_EQ(read->objects_size(), 1);
  EXPECT_EQ(read->objects(0), "pc.orders");
  EXPECT_EQ(Find(r, "privilege_binlog")->status(), report::FAILED);
  EXPECT_NE(Find(r, "privilege_binlog")->fix().find("REPLICATION SLAVE"), std::string::npos);
  // A switchover --read-only could not make A read-only: said up front (B's user can).
  for (const auto& c : r.checks()) {
    if (c.name() != "privilege_read_only") continue;
    EXPECT_EQ(c.status(), c.endpoint() == "a" ? report::WARNING : report::PASSED) << c.DebugString();
    if (c.endpoint() == "a") EXPECT_NE(c.fix().find("READ_ONLY ADMIN"), std::string::npos);
  }
  ASSERT_NE(Find(r, "privilege_read_only"), nullptr);

  // A table the user cannot see at all is reported as missing or not visible.
  Exec(a_.get(), "REVOKE INSERT ON pc.orders FROM 'limited'@'%'");
  auto hidden = Run(PrecheckConfig(R"({"import": "pc.orders|pc.by_code"})", "limited"));
  const report::Check* exist = Find(hidden, "objects_exist");
  ASSERT_NE(exist, nullptr);
  EXPECT_EQ(exist->objects(0), "pc.orders");
  EXPECT_NE(exist->message().find("no privilege"), std::string::npos);
}

TEST_F(PrecheckTest, ListsAndFiltersTablesWithoutKeys) {
  Exec(a_.get(), "CREATE TABLE pc.loose (a INT, b INT)");
  Exec(a_.get(), "CREATE TABLE pc.nullable_uk (a INT NULL, UNIQUE KEY (a))");
  Exec(b_.get(), "CREATE TABLE pc.loose (a INT, b INT); CREATE TABLE pc.nullable_uk (a INT NULL, UNIQUE KEY (a))");
  auto r = Run(PrecheckConfig(R"({"rules": {"whitelist": ["pc.*"]}})"));
  const report::Check* keys = Find(r, "keys");
  ASSERT_NE(keys, nullptr);
  EXPECT_EQ(keys->status(), report::WARNING);
  EXPECT_THAT(std::vector<std::string>(keys->objects().begin(), keys->objects().end()),
              ::testing::UnorderedElementsAre("pc.loose", "pc.nullable_uk"));
  EXPECT_TRUE(r.ok()) << "keyless tables are filtered out, the rest can run";
  // Only keyless tables selected: nothing could be synced.
  auto only = Run(PrecheckConfig(R"({"import": "pc.loose"})"));
  EXPECT_FALSE(only.ok());
  EXPECT_EQ(Find(only, "keys")->status(), report::FAILED);
}

TEST_F(PrecheckTest, FailsOnUnknownTableAndUnreachableEndpoint) {
  auto r = Run(PrecheckConfig(R"({"import": "pc.orders|pc.nope"})"));
  EXPECT_FALSE(r.ok());
  ASSERT_NE(Find(r, "objects_exist"), nullptr);
  EXPECT_EQ(Find(r, "objects_exist")->objects(0), "pc.nope");

  std::string json = PrecheckConfig(R"({"import": "pc.orders"})");
  const std::string port = absl::StrCat("\"port\":", ServerPair::B().port());
  json.replace(json.find(port), port.size(), "\"port\":1");
  auto down = Run(json);
  EXPECT_FALSE(down.ok());
  const report::Check* conn = nullptr;
  for (const auto& c : down.checks()) {
    if (c.name() == "connectivity" && c.endpoint() == "b") conn = &c;
  }
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn->status(), report::FAILED);
  EXPECT_EQ(conn->message().find(harness::MariaDbServer::kPassword), std::string::npos)
      << "the password must never appear";
}

// A restart after a crash often meets the network blip that caused it: a connection cut midway
// through the checks is checked again, not reported as a failed project (`run` would exit).
TEST_F(PrecheckTest, ACheckCutOffByTheNetworkIsRunAgain) {
  auto proxy = harness::DelayProxy::Start("127.0.0.1", ServerPair::A().port(), absl::ZeroDuration());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  std::string json = PrecheckConfig(R"({"rules": {"whitelist": ["pc.*"]}})");
  const std::string port = absl::StrCat("\"port\":", ServerPair::A().port());
  json.replace(json.find(port), port.size(), absl::StrCat("\"port\":", (*proxy)->port()));
  (*proxy)->CloseNextConnectionAt(8);  // past the handshake and session setup, among the checks
  auto r = Run(json);
  EXPECT_TRUE(r.ok()) << r.DebugString();
}

// A start_gtid is checked against the source: one of the other dialect, of another server (a
// domain it never wrote) or past its end fails precheck, and the link does not start at it.
TEST_F(PrecheckTest, AStartPositionMustFitTheSource) {
  auto with_start = [&](const std::string& start) {
    testing::ConfigBuilder config("pc");
    config.Objects(R"({"import": "pc.orders"})").Forward(absl::StrCat(R"({"start_gtid": ")", start, R"("})"));
    return config.Json();
  };
  const std::string end = testing::Rows(a_.get(), "SELECT @@gtid_binlog_pos")[0];
  auto fits = Run(with_start(end));
  ASSERT_NE(Find(fits, "start_position"), nullptr);
  EXPECT_EQ(Find(fits, "start_position")->status(), report::PASSED) << fits.DebugString();
  const std::string domain = end.substr(0, end.find('-'));
  for (const std::string& wrong : {std::string("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"),
                                   std::string("mysql-bin.000001:4"), std::string("77-1-5"),
                                   absl::StrCat(domain, "-1-999999999")}) {
    auto r = Run(with_start(wrong));
    ASSERT_NE(Find(r, "start_position"), nullptr) << wrong;
    EXPECT_EQ(Find(r, "start_position")->status(), report::FAILED) << wrong << r.DebugString();
    EXPECT_FALSE(r.ok()) << wrong;
  }
  auto past = Project::Create(with_start(absl::StrCat(domain, "-1-999999999")));
  ASSERT_TRUE(past.ok()) << past.status();
  absl::Status started = (*past)->Start();
  EXPECT_TRUE(absl::IsInvalidArgument(started)) << started;
  EXPECT_NE(started.message().find("past the source's binlog end"), std::string::npos) << started;
}

TEST_F(PrecheckTest, FailsWhenDestinationTableIsMissingWithoutSchemaMigration) {
  Exec(a_.get(), "CREATE TABLE pc.only_a (id INT PRIMARY KEY)");
  auto r = Run(PrecheckConfig(R"({"import": "pc.only_a"})"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Find(r, "destination_tables")->status(), report::FAILED);
  auto with_schema = Run(PrecheckConfig(R"({"import": "pc.only_a"})", "", /*schema_migration=*/true));
  EXPECT_EQ(Find(with_schema, "destination_tables"), nullptr);
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

class ActiveActivePrecheckTest : public PrecheckTest {
 protected:
  std::string AaConfig(const std::string& active_active = "{}") {
    return testing::ConfigBuilder("pcaa").Import("pc.orders|pc.by_code").ActiveActive(active_active).Json();
  }
  void TearDown() override {
    for (SqlConnection* c : {a_.get(), b_.get()}) {
      Exec(c, "SET GLOBAL auto_increment_increment=1, auto_increment_offset=1");
    }
    PrecheckTest::TearDown();
  }
};

TEST_F(ActiveActivePrecheckTest, PassesWithoutTriggersOrAutoIncrement) {
  auto r = Run(AaConfig());
  EXPECT_TRUE(r.ok()) << r.DebugString();
  EXPECT_EQ(Find(r, "triggers")->status(), report::PASSED);
  EXPECT_EQ(Find(r, "origin_ids")->status(), report::PASSED);
}

TEST_F(ActiveActivePrecheckTest, FailsOnTriggersOfSyncedTables) {
  Exec(b_.get(), "CREATE TRIGGER pc.t1 AFTER INSERT ON pc.orders FOR EACH ROW SET @x = 1");
  auto r = Run(AaConfig());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Find(r, "triggers")->status(), report::FAILED);
  EXPECT_EQ(Find(r, "triggers")->objects(0), "b:pc.orders");
}

TEST_F(ActiveActivePrecheckTest, AutoIncrementMustInterleave) {
  Exec(a_.get(), "CREATE TABLE pc.seq (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
  Exec(b_.get(), "CREATE TABLE pc.seq (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
  const std::string config = absl::StrReplaceAll(AaConfig(), {{"pc.orders|pc.by_code", "pc.seq"}});
  auto bad = Run(config);
  EXPECT_EQ(Find(bad, "auto_increment")->status(), report::FAILED);
  EXPECT_NE(Find(bad, "auto_increment")->fix().find("auto_increment_offset"), std::string::npos);
  Exec(a_.get(), "SET GLOBAL auto_increment_increment=2, auto_increment_offset=1");
  Exec(b_.get(), "SET GLOBAL auto_increment_increment=2, auto_increment_offset=2");
  EXPECT_EQ(Find(Run(config), "auto_increment")->status(), report::PASSED);
}

TEST_F(ActiveActivePrecheckTest, OriginIdsMustNotBeRealServerIds) {
  auto r = Run(AaConfig(R"({"forward_origin_id": 1})"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Find(r, "origin_ids")->status(), report::FAILED);
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

TEST_F(PrecheckTest, NamesForeignKeysToTablesOutsideTheSelection) {
  for (SqlConnection* c : {a_.get(), b_.get()}) {
    Exec(c, "CREATE TABLE pc.lines (id INT PRIMARY KEY, order_id INT NOT NULL,"
            " CONSTRAINT lines_order FOREIGN KEY (order_id) REFERENCES pc.orders (id))");
  }
  auto both = Run(PrecheckConfig(R"({"import": "pc.orders|pc.lines"})"));
  ASSERT_NE(Find(both, "foreign_keys"), nullptr);
  EXPECT_EQ(Find(both, "foreign_keys")->status(), report::PASSED);
  auto child_only = Run(PrecheckConfig(R"({"import": "pc.lines"})"));
  const report::Check* fk = Find(child_only, "foreign_keys");
  ASSERT_NE(fk, nullptr);
  EXPECT_EQ(fk->status(), report::WARNING);
  EXPECT_THAT(fk->message(), ::testing::HasSubstr("pc.lines -> pc.orders (lines_order)"));
  EXPECT_THAT(fk->fix(), ::testing::HasSubstr("add the referenced tables"));
}

}  // namespace
}  // namespace duosync
