// Rows whose table map names no columns (binlog_row_metadata=MINIMAL, as MySQL 5.7 and OceanBase
// write them) decode by the definition their table had when they were written: the link's schema
// history (src/source/schema_history.h), also across restarts while the link lags behind DDL.
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "duosync/project.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Connect;
using testing::Exec;
using testing::Rows;
using testing::ServerPair;

class SchemaHistoryTest : public testing::TwoServerTest {
 protected:
  SchemaHistoryTest() : TwoServerTest("hist_") {}
  void SetUp() override {
    TwoServerTest::SetUp();
    Exec(a_.get(), "SET GLOBAL binlog_row_metadata=MINIMAL");
    writer_ = Connect(ServerPair::A(), db_);  // a new session: it logs under the global setting
  }
  void TearDown() override {
    TwoServerTest::TearDown();
    Exec(a_.get(), "SET GLOBAL binlog_row_metadata=FULL");
  }
  // Syncs db_.t with DDL sync on, so that the destination's table follows the source's.
  std::string TableConfig() {
    return Config()
        .Forward(R"({"ddl": true})")
        .Objects(absl::StrCat(R"({"rules": {"whitelist": [")", db_, R"(.*"]}})"))
        .Json();
  }
  void Write(const std::string& sql) { Exec(writer_.get(), sql); }
  void ExpectIdentical() {
    ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id"));
    const std::string checksum = absl::StrCat("CHECKSUM TABLE ", db_, ".t");
    EXPECT_EQ(Rows(a_.get(), checksum), Rows(b_.get(), checksum));
  }
  std::string WaitForFailure() {
    absl::Status s = project_->Wait(absl::Seconds(30));
    EXPECT_FALSE(s.ok());
    EXPECT_FALSE(absl::IsDeadlineExceeded(s)) << "the link should have stopped with an error";
    return project_->StatusJson();
  }

  std::unique_ptr<SqlConnection> writer_;
};

// The link lags while the table changes shape: a column dropped and another of the same type
// added (same column count: matching by position would put b's values into c), then a column
// added in the middle. Restarts mid-way reload the history as of the checkpoint.
TEST_F(SchemaHistoryTest, RowsWrittenBeforeEachDdlKeepTheirColumnsWhileTheLinkLags) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10), b INT)");
  const std::string config = TableConfig();
  StartProject(config);
  ASSERT_TRUE(project_->Stop().ok());  // from here the link lags behind the writes

  Write("INSERT INTO t VALUES (1, 'a1', 10), (2, 'a2', 20)");
  Write("ALTER TABLE t DROP COLUMN b, ADD COLUMN c INT");
  Write("INSERT INTO t VALUES (3, 'a3', 30)");
  Write("UPDATE t SET c = 21 WHERE id = 2");
  project_.reset();
  StartProject(config);
  ExpectIdentical();
  ASSERT_TRUE(project_->Stop().ok());

  // Lagging again, now with a restart somewhere in the middle of the backlog.
  Write("UPDATE t SET a = 'a1x' WHERE id = 1");
  Write("ALTER TABLE t ADD COLUMN d VARCHAR(5) AFTER id");
  Write("INSERT INTO t VALUES (4, 'd4', 'a4', 40)");
  for (int i = 5; i < 200; ++i) Write(absl::StrCat("INSERT INTO t VALUES (", i, ", 'd', 'a", i, "', ", i, ")"));
  Write("ALTER TABLE t DROP COLUMN a");
  Write("UPDATE t SET d = 'd2' WHERE id = 2");
  Write("DELETE FROM t WHERE id = 3");
  project_.reset();
  StartProject(config);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  project_.reset();  // wherever it got to
  StartProject(config);
  ExpectIdentical();
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT d, c FROM ", db_, ".t WHERE id = 2"))[0], "d2|21");
}

// A generated column in the history's record of a table stays generated: rows from before a DDL,
// decoded by that record, do not write it (the destination computes it).
TEST_F(SchemaHistoryTest, GeneratedColumnsStayUnwrittenAcrossADdl) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, n INT, twice INT AS (n * 2) STORED,"
             " tag VARCHAR(12) AS (CONCAT('t', id)) VIRTUAL)");
  const std::string config = TableConfig();
  StartProject(config);
  ASSERT_TRUE(project_->Stop().ok());
  Write("INSERT INTO t (id, n) VALUES (1, 1), (2, 2)");
  Write("UPDATE t SET n = 5 WHERE id = 2");
  Write("ALTER TABLE t ADD COLUMN note VARCHAR(5) NULL");
  Write("INSERT INTO t (id, n, note) VALUES (3, 3, 'x')");
  project_.reset();
  StartProject(config);
  ExpectIdentical();
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT twice, tag FROM ", db_, ".t WHERE id = 2"))[0], "10|t2");
}

// NO_LOG writes not even signedness: unsigned extremes, latin1 text and ENUMs decode by the
// history's definition, across a column added by hand on both sides (no DDL sync: the
// destination first, as README says).
TEST_F(SchemaHistoryTest, WithoutAnyMetadataValuesKeepTheirTypesAcrossAnAddedColumn) {
  Exec(a_.get(), "SET GLOBAL binlog_row_metadata=NO_LOG");
  writer_ = Connect(ServerPair::A(), db_);
  CreateBoth("CREATE TABLE t (id INT UNSIGNED PRIMARY KEY, big BIGINT UNSIGNED, "
             "name VARCHAR(20) CHARACTER SET latin1, state ENUM('new','done'))");
  const std::string config = Config().Import(db_ + ".t").Json();
  StartProject(config);
  ASSERT_TRUE(project_->Stop().ok());
  Write("INSERT INTO t VALUES (4294967295, 18446744073709551615, 'café', 'done')");
  Exec(b_.get(), absl::StrCat("ALTER TABLE ", db_, ".t ADD COLUMN n SMALLINT UNSIGNED FIRST"));
  Write("ALTER TABLE t ADD COLUMN n SMALLINT UNSIGNED FIRST");
  Write("INSERT INTO t VALUES (65535, 2, 1, 'über', 'new')");
  Write("UPDATE t SET state = 'new', name = 'été' WHERE id = 4294967295");
  project_.reset();
  StartProject(config);
  ExpectIdentical();
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT big, name, state FROM ", db_, ".t WHERE id = 4294967295"))[0],
            "18446744073709551615|été|new");
}

// gh-ost's swap while the link lags: a copy made LIKE the table, altered, renamed into its place.
// Rows from before the swap decode by the old definition, rows after by the copy's.
TEST_F(SchemaHistoryTest, AnOnlineSchemaChangeBySwappedTablesIsFollowed) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))");
  const std::string config = Config().Import(db_ + ".t").Json();
  StartProject(config);
  ASSERT_TRUE(project_->Stop().ok());
  Write("INSERT INTO t VALUES (1, 'before')");
  Exec(b_.get(), absl::StrCat("ALTER TABLE ", db_, ".t ADD COLUMN c INT"));  // the destination first
  Write("CREATE TABLE _t_gho LIKE t");
  Write("ALTER TABLE _t_gho ADD COLUMN c INT");
  Write("INSERT INTO _t_gho SELECT id, a, NULL FROM t");
  Write("RENAME TABLE t TO _t_del, _t_gho TO t");
  Write("INSERT INTO t VALUES (2, 'after', 7)");
  Write("UPDATE t SET a = 'before+' WHERE id = 1");
  project_.reset();
  StartProject(config);
  ExpectIdentical();
}

// A DDL the history's copy cannot run (it keeps no partitions) changes no column: rows still fit
// the definition before it and go on decoding by it.
TEST_F(SchemaHistoryTest, ADdlTheCopyRefusesButThatKeepsTheColumnsIsPassedOver) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))");
  const std::string config = Config().Import(db_ + ".t").Json();
  StartProject(config);
  Write("ALTER TABLE t PARTITION BY HASH(id) PARTITIONS 2");
  Write("INSERT INTO t VALUES (1, 'one')");
  Write("ALTER TABLE t REMOVE PARTITIONING");
  Write("INSERT INTO t VALUES (2, 'two')");
  ExpectIdentical();
  EXPECT_EQ(project_->Wait(absl::Milliseconds(100)).code(), absl::StatusCode::kDeadlineExceeded)
      << project_->StatusJson();
}

// A DDL the binlog never showed (run with sql_log_bin=0) leaves the history behind: rows of the
// new shape stop the link naming the table instead of landing in the wrong columns.
TEST_F(SchemaHistoryTest, RowsOfAShapeTheHistoryDoesNotKnowStopTheLink) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))");
  StartProject(TableConfig());
  Write("INSERT INTO t VALUES (1, 'one')");
  ExpectIdentical();
  Write("SET SESSION sql_log_bin=0; ALTER TABLE t ADD COLUMN x INT; SET SESSION sql_log_bin=1");
  Write("INSERT INTO t VALUES (2, 'two', 2)");
  const std::string status = WaitForFailure();
  EXPECT_NE(status.find("do not match its definition in the schema history"), std::string::npos) << status;
  EXPECT_NE(status.find(db_ + ".t"), std::string::npos) << status;
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t"))[0], "1");
}

// A history kept by a version before MySQL sources (no `source` column) is read after the
// upgrade: rows queued behind a DDL decode by it.
TEST_F(SchemaHistoryTest, AHistoryKeptByAnOlderVersionIsReadAfterTheUpgrade) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10), b INT)");
  const std::string config = TableConfig();
  StartProject(config);
  Write("INSERT INTO t VALUES (1, 'a1', 10)");
  ExpectIdentical();
  ASSERT_TRUE(project_->Stop().ok());
  project_.reset();
  Exec(b_.get(), "ALTER TABLE duosync.schema_history DROP INDEX link_id, DROP COLUMN source, "
                 "ADD UNIQUE KEY link_id (link_id, domain_id, server_id, seq, table_schema, table_name)");
  Write("INSERT INTO t VALUES (2, 'a2', 20)");
  Write("ALTER TABLE t DROP COLUMN b, ADD COLUMN c INT");
  Write("INSERT INTO t VALUES (3, 'a3', 30)");
  StartProject(config);
  ExpectIdentical();
  EXPECT_EQ(Rows(b_.get(), "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='duosync' "
                           "AND TABLE_NAME='schema_history' AND COLUMN_NAME='source'")[0], "1");
}

}  // namespace
}  // namespace duosync
