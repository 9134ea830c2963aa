// DDL sync on a forward link, under concurrent DML.
#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "duosync/project.h"
#include "harness/delay_proxy.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Connect;
using testing::Exec;
using testing::Rows;
using testing::ServerPair;

class DdlSyncTest : public testing::TwoServerTest {
 protected:
  DdlSyncTest() : TwoServerTest("ddl_") {}
  // A table on each side; B's copy lives under a renamed schema and has an index already.
  Side SideA() const override { return Side::WithSql(kTable); }
  Side SideB() const override {
    Side side;
    side.database = db_ + "_b";
    side.sql = absl::StrCat(kTable, "; CREATE INDEX by_n ON t (n)");
    return side;
  }
  static constexpr const char* kTable =
      "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(10), n INT NOT NULL DEFAULT 0)";

  void SetUp() override {
    TwoServerTest::SetUp();
    StartProject(Config()
                     .Forward(R"({"ddl": true})")
                     .Objects(absl::StrCat(R"({"rules": {"whitelist": [")", db_, R"(.*"], "schema_renames": {")",
                                           db_, R"(": ")", db_, R"(_b"}}})"))
                     .Json());
  }

  std::vector<std::string> Columns(SqlConnection* c, const std::string& db, const std::string& table) {
    return Rows(c, absl::StrCat("SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT FROM "
                                "information_schema.COLUMNS WHERE TABLE_SCHEMA='", db, "' AND TABLE_NAME='",
                                table, "' ORDER BY ORDINAL_POSITION"));
  }
};

TEST_F(DdlSyncTest, EverySupportedDdlAppliesInOrderUnderConcurrentDml) {
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    auto w = Connect(ServerPair::A(), db_);
    for (int i = 1; !stop; ++i) {
      Exec(w.get(), absl::StrCat("INSERT INTO t (id, name) VALUES (", i, ", 'n", i % 100, "')"));
      if (i % 3 == 0) Exec(w.get(), absl::StrCat("UPDATE t SET n = n + 1 WHERE id = ", i / 2));
    }
  });
  auto ddl = [&](const std::string& sql) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    Exec(a_.get(), absl::StrCat("USE ", db_, "; ", sql));
  };
  ddl("ALTER TABLE t ADD COLUMN note VARCHAR(20) NULL");
  ddl("ALTER TABLE t MODIFY COLUMN name VARCHAR(40)");
  ddl("ALTER TABLE t ALTER COLUMN note SET DEFAULT 'none'");
  ddl("CREATE INDEX by_n ON t (n)");  // exists on the destination: skipped, not fatal
  ddl("ALTER TABLE t ADD INDEX by_name (name)");
  ddl("CREATE TABLE t2 (id INT PRIMARY KEY, v INT)");
  ddl("INSERT INTO t2 VALUES (1, 1), (2, 2)");
  ddl("RENAME TABLE t2 TO t3");
  ddl("INSERT INTO t3 VALUES (3, 3)");
  ddl("TRUNCATE TABLE t3");
  ddl("INSERT INTO t3 VALUES (4, 4)");
  ddl("DROP INDEX by_name ON t");
  ddl("ALTER TABLE t ALTER COLUMN note DROP DEFAULT");
  ddl("ALTER TABLE t DROP COLUMN note");
  ddl("CREATE TABLE gone (id INT PRIMARY KEY)");
  ddl("DROP TABLE gone");
  stop = true;
  writer.join();
  const std::string q = "SELECT * FROM %s.t ORDER BY id";
  bool same = false;
  for (int i = 0; i < 300 && !same; ++i) {
    same = Rows(a_.get(), absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id")) ==
               Rows(b_.get(), absl::StrCat("SELECT * FROM ", db_, "_b.t ORDER BY id")) &&
           Rows(a_.get(), absl::StrCat("SELECT * FROM ", db_, ".t3")) ==
               Rows(b_.get(), absl::StrCat("SELECT * FROM ", db_, "_b.t3"));
    if (!same) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(same) << project_->StatusJson();
  EXPECT_EQ(Columns(a_.get(), db_, "t"), Columns(b_.get(), db_ + "_b", "t"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT * FROM ", db_, "_b.t3")), std::vector<std::string>{"4|4"});
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='",
                                        db_, "_b' AND TABLE_NAME IN ('t2', 'gone')"))[0], "0");
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE "
                                        "TABLE_SCHEMA='", db_, "_b' AND TABLE_NAME='t' ORDER BY 1")),
            (std::vector<std::string>{"by_n", "PRIMARY"}));
  EXPECT_EQ(project_->StatusJson().find("failed"), std::string::npos) << project_->StatusJson();
}

// A generated column added by a DDL is computed on both sides: the rows after it (and before it,
// replayed through the schema history) never write it.
TEST_F(DdlSyncTest, AddedGeneratedColumnsAreComputedNotWritten) {
  Exec(a_.get(), absl::StrCat("USE ", db_, "; INSERT INTO t (id, name, n) VALUES (1, 'a', 1), (2, 'b', 2);"
                              "ALTER TABLE t ADD COLUMN twice INT AS (n * 2) STORED;"
                              "ALTER TABLE t ADD COLUMN tag VARCHAR(20) AS (CONCAT('t', id)) VIRTUAL;"
                              "INSERT INTO t (id, name, n) VALUES (3, 'c', 3); UPDATE t SET n = n + 10 WHERE id <= 2;"
                              "DELETE FROM t WHERE id = 3; INSERT INTO t (id, name, n) VALUES (4, 'd', 4)"));
  const std::string cols = "id, name, n, twice, tag";
  testing::WaitFor([&] {
    auto b = testing::Connect(ServerPair::B(), db_ + "_b");
    auto rows = b->Query(absl::StrCat("SELECT ", cols, " FROM t ORDER BY id"));
    return rows.ok() && rows->size() == 3 && Rows(b.get(), "SELECT n FROM t WHERE id = 1")[0] == "11";
  }, absl::Seconds(30));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT ", cols, " FROM ", db_, "_b.t ORDER BY id")),
            (std::vector<std::string>{"1|a|11|22|t1", "2|b|12|24|t2", "4|d|4|8|t4"}))
      << project_->StatusJson();
  EXPECT_EQ(project_->StatusJson().find("failed"), std::string::npos) << project_->StatusJson();
}

// Rows read after their table was renamed away decode from the binlog's own metadata.
TEST_F(DdlSyncTest, RowsOfATableRenamedSinceDecodeFromTheBinlog) {
  ASSERT_TRUE(project_->Stop().ok());
  Exec(a_.get(), absl::StrCat("USE ", db_, "; CREATE TABLE t2 (id INT PRIMARY KEY, v VARCHAR(10));"
                              "INSERT INTO t2 VALUES (1, 'one'), (2, 'two'); RENAME TABLE t2 TO t3;"
                              "INSERT INTO t3 VALUES (3, 'three')"));
  RestartProject();
  for (int i = 0; i < 300; ++i) {
    auto r = b_->Query(absl::StrCat("SELECT * FROM ", db_, "_b.t3 ORDER BY id"));
    if (r.ok() && r->size() == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT * FROM ", db_, "_b.t3 ORDER BY id")),
            (std::vector<std::string>{"1|one", "2|two", "3|three"})) << project_->StatusJson();
}

// A DDL that runs longer than the destination timeout (here: queued behind a reader's metadata
// lock on B for three timeouts) is waited for, not given up and sent again.
TEST_F(DdlSyncTest, ADdlOutlivingTheDestinationTimeoutIsSentOnce) {
  ASSERT_TRUE(project_->Stop().ok());
  project_.reset();
  testing::ConfigBuilder config = Config();
  config.Forward(R"({"ddl": true})")
      .ForwardOptions(R"({"destination_timeout_seconds": 2})")
      .Objects(absl::StrCat(R"({"rules": {"whitelist": [")", db_, R"(.*"], "schema_renames": {")", db_,
                            R"(": ")", db_, R"(_b"}}})"));
  StartProject(config.Json());
  Exec(b_.get(), "SET GLOBAL log_output='TABLE'; TRUNCATE mysql.general_log; SET GLOBAL general_log=1");
  struct LogOff {
    SqlConnection* b;
    ~LogOff() { Exec(b, "SET GLOBAL general_log=0; TRUNCATE mysql.general_log"); }
  } log_off{b_.get()};
  auto reader = testing::Connect(ServerPair::B());
  Exec(reader.get(), absl::StrCat("BEGIN; SELECT * FROM ", db_, "_b.t"));  // holds a metadata lock
  Exec(a_.get(), absl::StrCat("ALTER TABLE ", db_, ".t ADD COLUMN c INT"));
  std::this_thread::sleep_for(std::chrono::seconds(6));
  Exec(reader.get(), "COMMIT");
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t (id, name, c) VALUES (1, 'after', 7)"));
  ExpectEventuallySame(absl::StrCat("SELECT id, name, c FROM ", db_, "_b.t"),
                       absl::StrCat("SELECT id, name, c FROM ", db_, ".t"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM mysql.general_log WHERE command_type='Query' AND "
                                        "argument LIKE 'ALTER TABLE%' AND argument LIKE '%", db_, "_b%'"))[0],
            "1");
  EXPECT_EQ(testing::LinkStatusOf(*project_).stage(), "incremental") << project_->StatusJson();
}

// While a DDL waits on the destination, the destination stops answering (a partition): the
// DDL's connection is given up after the destination timeout and the link says so and retries,
// instead of waiting on it for days; once the partition heals, the link goes on.
TEST_F(DdlSyncTest, ADdlWhoseDestinationStopsAnsweringIsGivenUp) {
  ASSERT_TRUE(project_->Stop().ok());
  project_.reset();
  auto proxy = harness::DelayProxy::Start("127.0.0.1", ServerPair::B().port(), absl::ZeroDuration());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  testing::ConfigBuilder config = Config();
  config.Forward(R"({"ddl": true})")
      .ForwardOptions(R"({"destination_timeout_seconds": 2})")
      .Objects(absl::StrCat(R"({"rules": {"whitelist": [")", db_, R"(.*"], "schema_renames": {")", db_,
                            R"(": ")", db_, R"(_b"}}})"));
  config.mutable_proto()->mutable_endpoints()->mutable_b()->set_port((*proxy)->port());
  StartProject(config.Json());
  auto reader = testing::Connect(ServerPair::B());
  Exec(reader.get(), absl::StrCat("BEGIN; SELECT * FROM ", db_, "_b.t"));  // the DDL will wait on B
  Exec(a_.get(), absl::StrCat("ALTER TABLE ", db_, ".t ADD COLUMN c INT"));
  const std::string waiting = absl::StrCat("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE "
                                           "'ALTER TABLE%", db_, "_b%'");
  ASSERT_TRUE(testing::WaitFor([&] { return Rows(b_.get(), waiting)[0] == "1"; }, absl::Seconds(30)));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the destination answered the watch, then...
  (*proxy)->Cut(true);
  const bool said = testing::WaitFor([&] {
    return testing::LinkStatusOf(*project_).last_error().find("stopped answering") != std::string::npos;
  }, absl::Seconds(30));
  Exec(reader.get(), "COMMIT");
  (*proxy)->Cut(false);
  EXPECT_TRUE(said) << project_->StatusJson();
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t (id, name, c) VALUES (1, 'healed', 7)"));
  const std::string has_c = absl::StrCat("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='",
                                         db_, "_b' AND TABLE_NAME='t' AND COLUMN_NAME='c'");
  ASSERT_TRUE(testing::WaitFor([&] { return Rows(b_.get(), has_c)[0] == "1"; }, absl::Seconds(60)))
      << project_->StatusJson();
  ExpectEventuallySame(absl::StrCat("SELECT id, name, c FROM ", db_, "_b.t"),
                       absl::StrCat("SELECT id, name, c FROM ", db_, ".t"), 60);
}

TEST_F(DdlSyncTest, UnsupportedDdlOnASyncedTableStopsBeforeIt) {
  Exec(a_.get(), absl::StrCat("USE ", db_, "; INSERT INTO t (id) VALUES (1)"));
  const std::string before_ddl = Rows(a_.get(), "SELECT @@gtid_binlog_pos")[0];
  Exec(a_.get(), absl::StrCat("USE ", db_, "; ALTER TABLE t CHANGE name full_name VARCHAR(10)"));
  Exec(a_.get(), absl::StrCat("USE ", db_, "; INSERT INTO t (id) VALUES (2)"));
  absl::Status s = project_->Wait(absl::Seconds(30));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(std::string(s.message()).find("CHANGE"), std::string::npos) << s;
  EXPECT_NE(std::string(s.message()).find("not supported"), std::string::npos) << s;
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT id FROM ", db_, "_b.t")), std::vector<std::string>{"1"});
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT position FROM duosync.checkpoint WHERE link_id='", db_,
                                        "/forward'"))[0], before_ddl) << "the checkpoint is just before the DDL";
}

// The server runs what stands in /*! ... */: an unsupported change cannot hide in one.
TEST_F(DdlSyncTest, UnsupportedDdlInAnExecutableCommentStopsBeforeIt) {
  Exec(a_.get(), absl::StrCat("USE ", db_, "; INSERT INTO t (id) VALUES (1)"));
  // Read without the comment, this would pass as a supported ADD COLUMN.
  Exec(a_.get(), absl::StrCat("USE ", db_, "; ALTER TABLE t ADD COLUMN c INT",
                              " /*!50100 , CHANGE name full_name VARCHAR(10) */"));
  Exec(a_.get(), absl::StrCat("USE ", db_, "; INSERT INTO t (id) VALUES (2)"));
  absl::Status s = project_->Wait(absl::Seconds(30));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(std::string(s.message()).find("not supported"), std::string::npos) << s;
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT id FROM ", db_, "_b.t")), std::vector<std::string>{"1"});
}

// A DDL written under ANSI_QUOTES reads otherwise on the destination: the link stops before it,
// naming the mode, instead of passing over what it cannot read.
TEST_F(DdlSyncTest, DdlWrittenUnderAnsiQuotesStopsBeforeIt) {
  Exec(a_.get(), absl::StrCat("USE ", db_, "; INSERT INTO t (id) VALUES (1)"));
  auto session = testing::Connect(testing::ServerPair::A(), db_);
  Exec(session.get(), R"(SET SESSION sql_mode='ANSI_QUOTES'; ALTER TABLE "t" ADD COLUMN "c2" INT)");
  Exec(a_.get(), absl::StrCat("USE ", db_, "; INSERT INTO t (id) VALUES (2)"));
  absl::Status s = project_->Wait(absl::Seconds(30));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(std::string(s.message()).find("ANSI_QUOTES"), std::string::npos) << s;
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT id FROM ", db_, "_b.t")), std::vector<std::string>{"1"});
}

TEST_F(DdlSyncTest, ShorteningAColumnIsRefusedAndUnsyncedDdlIgnored) {
  Exec(a_.get(), "CREATE DATABASE IF NOT EXISTS ddl_elsewhere");
  Exec(a_.get(), "CREATE OR REPLACE TABLE ddl_elsewhere.x (id INT PRIMARY KEY); ALTER TABLE ddl_elsewhere.x ENGINE=InnoDB");
  Exec(a_.get(), absl::StrCat("USE ", db_, "; ALTER TABLE t MODIFY name VARCHAR(5)"));
  absl::Status s = project_->Wait(absl::Seconds(30));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(std::string(s.message()).find("MODIFY of name"), std::string::npos) << s;
}

}  // namespace
}  // namespace duosync
