// Incremental migration on a forward link, against two real MariaDB servers.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_join.h"
#include "duosync/project.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Connect;
using testing::Exec;
using testing::Rows;
using testing::ServerPair;

class IncrementalTest : public testing::TwoServerTest {
 protected:
  IncrementalTest() : TwoServerTest("inc_") {}
  void TearDown() override {
    TwoServerTest::TearDown();
    Exec(a_.get(), "SET GLOBAL read_only=OFF");  // a switchover test may leave A read-only
  }

  // Syncs db_.`table` alone.
  std::string TableConfig(const std::string& table) { return Config().Import(db_ + "." + table).Json(); }

  // Waits until the project reports a failed link; returns its status JSON.
  std::string WaitForFailure() {
    absl::Status s = project_->Wait(absl::Seconds(30));
    EXPECT_FALSE(s.ok());
    EXPECT_FALSE(absl::IsDeadlineExceeded(s)) << "the link should have stopped with an error";
    return project_->StatusJson();
  }

  // Waits until the checkpoint (written asynchronously) reaches A's binlog end.
  void WaitCheckpointAtSourceEnd() {
    const std::string end = Rows(a_.get(), "SELECT @@gtid_binlog_pos")[0];
    testing::WaitFor([&] { return Checkpoint() == end; }, absl::Seconds(5));
    ASSERT_EQ(Checkpoint(), end);
  }

  std::string Checkpoint() {
    auto rows = Rows(b_.get(), absl::StrCat("SELECT position FROM duosync.checkpoint WHERE link_id='",
                                            db_, "/forward'"));
    return rows.empty() ? "" : rows[0];
  }
};

// Configs can be committed: the passwords come from the environment and from a file, and no
// status shows them.
TEST_F(IncrementalTest, PasswordsFromTheEnvironmentAndAFileConnect) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))");
  const std::string file = ::testing::TempDir() + "/duosync_b_password";
  {
    std::ofstream out(file);
    out << harness::MariaDbServer::kPassword << "\n";
  }
  setenv("DUOSYNC_TEST_A_PASSWORD", harness::MariaDbServer::kPassword, 1);
  testing::ConfigBuilder config = Config();
  config.Import(db_ + ".t");
  config::Endpoints* endpoints = config.mutable_proto()->mutable_endpoints();
  endpoints->mutable_a()->clear_password();
  endpoints->mutable_a()->set_password_env("DUOSYNC_TEST_A_PASSWORD");
  endpoints->mutable_b()->clear_password();
  endpoints->mutable_b()->set_password_file(file);
  StartProject(config.Json());
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (1, 'secret-free')"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t"));
  EXPECT_EQ(project_->StatusJson().find(harness::MariaDbServer::kPassword), std::string::npos);
  unsetenv("DUOSYNC_TEST_A_PASSWORD");
}

TEST_F(IncrementalTest, AppliesInsertsUpdatesDeletesInOrder) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))");
  StartProject(TableConfig("t"));
  Exec(a_.get(), absl::StrCat("USE ", db_, "; INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c');"
                              "UPDATE t SET v='bb' WHERE id=2; DELETE FROM t WHERE id=3;"
                              "BEGIN; INSERT INTO t VALUES (4,'d'); UPDATE t SET id=5 WHERE id=4; COMMIT"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id")),
            (std::vector<std::string>{"1|a", "2|bb", "5|d"}));
}

TEST_F(IncrementalTest, RoundTripsEveryTypeFamily) {
  CreateBoth(R"(CREATE TABLE ints (id INT PRIMARY KEY, t TINYINT, tu TINYINT UNSIGNED, s SMALLINT,
      su SMALLINT UNSIGNED, m MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, b BIGINT,
      bu BIGINT UNSIGNED, bt BIT(1), b64 BIT(64), b13 BIT(13), y YEAR))");
  CreateBoth(R"(CREATE TABLE nums (id INT PRIMARY KEY, d1 DECIMAL(65,30), d2 DECIMAL(10,2),
      d3 DECIMAL(5,0), d4 DECIMAL(20,10) UNSIGNED, f FLOAT, dbl DOUBLE))");
  CreateBoth(R"(CREATE TABLE times (id INT PRIMARY KEY, d DATE, dt DATETIME, dt3 DATETIME(3),
      dt6 DATETIME(6), ts TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL, tm TIME, tm1 TIME(1), tm4 TIME(4),
      tm6 TIME(6)))");
  CreateBoth(R"(CREATE TABLE texts (id INT PRIMARY KEY, c CHAR(10), c255 CHAR(255), vc VARCHAR(300),
      vc4 VARCHAR(5000) CHARACTER SET utf8mb4, lat VARCHAR(20) CHARACTER SET latin1,
      bin BINARY(4), vbin VARBINARY(300), tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, lt LONGTEXT,
      tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB, j JSON, e ENUM('x','y','z'),
      st SET('a','b','c','d','e','f','g','h','i')))");
  StartProject(Config().Whitelist(db_ + ".*").Json());
  Exec(a_.get(), absl::StrCat("USE ", db_, ";", R"(
    INSERT INTO ints VALUES
      (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
       -9223372036854775808, 18446744073709551615, b'1', b'1111111111111111111111111111111111111111111111111111111111111111', b'1010101010101', 2155),
      (2, 127, 0, 32767, 0, 8388607, 0, 2147483647, 0, 9223372036854775807, 0, b'0', 0, 0, 1901),
      (3, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0);
    INSERT INTO nums VALUES
      (1, 12345678901234567890123456789012345.123456789012345678901234567890, -99999999.99, 99999,
       9999999999.9999999999, 3.40282e38, 1.7976931348623157e308),
      (2, -0.000000000000000000000000000001, 0.01, -1, 0, -1.17549435e-38, 2.2250738585072014e-308),
      (3, 0, -0.5, 0, 0.0000000001, 0.1, -0.1), (4, NULL, NULL, NULL, NULL, NULL, NULL);
    INSERT INTO times VALUES
      (1, '1000-01-01', '1000-01-01 00:00:00', '1000-01-01 00:00:00.001', '9999-12-31 23:59:59.999999',
       '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999', '-838:59:59', '-00:00:00.1',
       '-12:34:56.7891', '838:59:59.000000'),
      (2, '0000-00-00', '0000-00-00 00:00:00', '2024-02-29 12:00:00.5', '2024-02-29 12:00:00.000001',
       '0000-00-00 00:00:00', '2024-06-01 10:20:30.123456', '00:00:00', '12:00:00.5', '-00:00:01.0001',
       '-838:59:58.999999'),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    INSERT INTO texts VALUES
      (1, 'abc', REPEAT('x', 255), REPEAT('é', 300), REPEAT('😀', 1000), 'café', 0x00FF0A27,
       0x5C00275C0D0A1A, 'tiny', 'it''s a \\ text', REPEAT('m', 70000), REPEAT('L', 300000),
       0x00, 0x0102, REPEAT(0xAB, 70000), REPEAT(0xCD, 100000), '{"k": [1, "two", null], "ü": true}',
       'z', 'a,c,i'),
      (2, '', '', '', '', '', 0x00000000, '', '', '', '', '', '', '', '', '', '[]', 'x', ''),
      (3, 'trail  ', NULL, 'trailing spaces   ', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL);
    UPDATE ints SET tu = 1, b13 = b'1' WHERE id = 2;
    UPDATE texts SET lb = REPEAT(0xEE, 200000), vc4 = 'changed' WHERE id = 1;
    UPDATE times SET ts6 = '2001-02-03 04:05:06.7' WHERE id = 2;
    DELETE FROM nums WHERE id = 4;)"));
  for (const std::string table : {"ints", "nums", "times"}) {
    ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".", table, " ORDER BY id"));
  }
  ExpectEventuallySame(absl::StrCat(
      "SELECT id, HEX(c), HEX(c255), HEX(vc), HEX(vc4), HEX(lat), HEX(bin), HEX(vbin), HEX(tt), "
      "HEX(tx), MD5(mt), MD5(lt), HEX(tb), HEX(bl), MD5(mb), MD5(lb), j, e, st, "
      "CHARSET(lat), LENGTH(lat) FROM ", db_, ".texts ORDER BY id"));
  // Values the text comparison could hide: exact binary of floats and bits.
  ExpectEventuallySame(absl::StrCat("SELECT id, HEX(f), HEX(dbl), f = CAST(f AS FLOAT) FROM ", db_,
                                    ".nums ORDER BY id"));
}

// A column with ON UPDATE CURRENT_TIMESTAMP keeps the source's value: an UPDATE within the same
// second leaves it as it was on A, and B (whose clock says later) must not set it to its own now,
// alone or in a grouped UPDATE.
TEST_F(IncrementalTest, OnUpdateTimestampsKeepTheSourcesValue) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, v INT, ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP"
             " ON UPDATE CURRENT_TIMESTAMP, dt DATETIME(3) NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP(3))");
  StartProject(TableConfig("t"));
  Exec(a_.get(), absl::StrCat("USE ", db_, "; SET timestamp = 1500000000;"
                              "INSERT INTO t (id, v) SELECT seq, seq FROM seq_1_to_50;"
                              "UPDATE t SET v = v + 100 WHERE id <= 40;"  // same second: ts unchanged (dt set)
                              "UPDATE t SET v = 7 WHERE id = 45;"
                              "SET timestamp = 1500000100; UPDATE t SET v = 8 WHERE id = 50"));
  ExpectEventuallySame(absl::StrCat("SELECT id, v, UNIX_TIMESTAMP(ts), dt FROM ", db_, ".t ORDER BY id"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT UNIX_TIMESTAMP(ts) FROM ", db_, ".t WHERE id IN (1, 50) ORDER BY id")),
            (std::vector<std::string>{"1500000000", "1500000100"}));
}

// Updates of one table setting the same columns go as one joined UPDATE (statement_grouping.h):
// every value comes through its derived table as the row's own UPDATE would have set it, and a
// row changed twice, or deleted and inserted again, keeps its order.
TEST_F(IncrementalTest, GroupedUpdatesKeepEveryValueAndTheOrderOfEachRow) {
  CreateBoth(R"(CREATE TABLE g (id BIGINT UNSIGNED PRIMARY KEY, u INT NOT NULL UNIQUE, ti TINYINT,
      bu BIGINT UNSIGNED, d DECIMAL(65,30), d2 DECIMAL(10,2), f FLOAT, dbl DOUBLE,
      vc VARCHAR(50) CHARACTER SET utf8mb4, lat VARCHAR(20) CHARACTER SET latin1, ch CHAR(5),
      vb VARBINARY(20), bl BLOB, tx TEXT, dt DATE, dtm DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(2),
      y YEAR, bt BIT(8), e ENUM('x','y'), j JSON))");
  StartProject(TableConfig("g"));
  Exec(a_.get(), absl::StrCat("USE ", db_, ";", R"(
    INSERT INTO g (id, u) SELECT seq, seq FROM seq_1_to_40;
    INSERT INTO g (id, u) VALUES (18446744073709551615, 0);)"));
  ExpectEventuallySame(absl::StrCat("SELECT id, u FROM ", db_, ".g ORDER BY id"));
  const std::string before = Rows(b_.get(), "SHOW GLOBAL STATUS LIKE 'Com_update_multi'")[0];
  Exec(a_.get(), absl::StrCat("USE ", db_, ";", R"(
    BEGIN;
    UPDATE g SET ti = -(id MOD 100), bu = 18446744073709551615 - id, d = id / 7 + 0.000000000000000000000000000001,
      d2 = -(id MOD 100) - 0.25, f = (id MOD 100) / 3, dbl = (id MOD 100) * 1.7976931348623157e300,
      vc = CONCAT('it''s \\ é 😀 ', id), lat = CONCAT('café', id MOD 100), ch = 'ab  ',
      vb = UNHEX(CONCAT('00FF', LPAD(HEX(id MOD 100), 4, '0'), '27')), bl = REPEAT(UNHEX('5C00'), id MOD 100),
      dt = '2024-02-29' + INTERVAL (id MOD 100) DAY,
      dtm = '2001-02-03 04:05:06.000001' + INTERVAL (id MOD 100) SECOND, ts = '2038-01-19 03:14:07.999',
      tm = SEC_TO_TIME(-(id MOD 100) * 3600 - 0.25), y = 1901 + (id MOD 100) WHERE id <= 30 OR id = 18446744073709551615;
    UPDATE g SET vc = 'second' WHERE id = 7;
    DELETE FROM g WHERE id = 8;
    INSERT INTO g (id, u, vc) VALUES (8, 8, 'again');
    UPDATE g SET bt = b'10100101', e = 'y', j = '{"a": [1, 2]}' WHERE id BETWEEN 10 AND 12;
    UPDATE g SET vc = 'third' WHERE id = 7;
    UPDATE g SET u = u + 1000 WHERE id BETWEEN 20 AND 22;
    COMMIT;)"));
  ExpectEventuallySame(absl::StrCat(
      "SELECT id, u, ti, bu, d, d2, HEX(f), HEX(dbl), HEX(vc), HEX(lat), HEX(ch), HEX(vb), HEX(bl), tx, dt, dtm, "
      "ts, tm, y, HEX(bt), e, j FROM ", db_, ".g ORDER BY id"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT vc FROM ", db_, ".g WHERE id IN (7, 8) ORDER BY id")),
            (std::vector<std::string>{"third", "again"}));
  // The first UPDATE's 31 rows went as joined statements, not one statement each.
  const std::string after = Rows(b_.get(), "SHOW GLOBAL STATUS LIKE 'Com_update_multi'")[0];
  EXPECT_NE(before, after);
}

TEST_F(IncrementalTest, RenamesRowFiltersColumnsAndDmlChoice) {
  CreateBoth("CREATE TABLE src (id INT PRIMARY KEY, region VARCHAR(10), amount INT, secret VARCHAR(10))");
  Exec(b_.get(), absl::StrCat("CREATE DATABASE ", db_, "_b; CREATE TABLE ", db_,
                              "_b.dst (id INT PRIMARY KEY, region VARCHAR(10), amount INT, "
                              "extra INT NOT NULL DEFAULT 7)"));
  CreateBoth("CREATE TABLE no_delete (id INT PRIMARY KEY, v INT)");
  StartProject(Config()
                   .Objects(absl::StrCat(R"({"tables": [{"schema": ")", db_, R"(", "table": "src", "rename": ")",
                                         db_, R"(_b.dst", "where": "region IN ('eu', 'us') AND amount >= 10",
                                         "columns": ["id", "region", "amount"]}]})"))
                   .Json());
  Exec(a_.get(), absl::StrCat("USE ", db_, ";",
      "INSERT INTO src VALUES (1,'eu',10,'s1'),(2,'asia',50,'s2'),(3,'us',5,'s3'),(4,'us',20,'s4');"
      "UPDATE src SET amount = 30 WHERE id = 3;"       // enters the filter: INSERT
      "UPDATE src SET region = 'asia' WHERE id = 4;"   // leaves the filter: DELETE
      "UPDATE src SET region = 'us' WHERE id = 2;"     // enters
      "UPDATE src SET secret = 'x' WHERE id = 1;"      // stays in: UPDATE
      "DELETE FROM src WHERE id = 2;"));
  ExpectEventuallySame(absl::StrCat("SELECT id, region, amount, extra FROM ", db_, "_b.dst ORDER BY id"),
                       absl::StrCat("SELECT id, region, amount, 7 FROM ", db_, ".src WHERE region IN "
                                    "('eu','us') AND amount >= 10 ORDER BY id"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT * FROM ", db_, "_b.dst ORDER BY id")),
            (std::vector<std::string>{"1|eu|10|7", "3|us|30|7"}));
  ASSERT_TRUE(project_->Stop().ok());
  Exec(b_.get(), absl::StrCat("DROP DATABASE ", db_, "_b"));

  // DML choice: deletes are not synced.
  StartProject(Config().Import(db_ + ".no_delete").Forward(R"({"dml": ["INSERT", "UPDATE"]})").Json());
  Exec(a_.get(), absl::StrCat("USE ", db_, "; INSERT INTO no_delete VALUES (1,1),(2,2);"
                              "DELETE FROM no_delete WHERE id=1; UPDATE no_delete SET v=20 WHERE id=2;"
                              "INSERT INTO no_delete VALUES (3,3)"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".no_delete ORDER BY id"),
                       "SELECT * FROM (SELECT 1 AS id, 1 AS v UNION ALL SELECT 2, 20 UNION ALL SELECT 3, 3) x");
}

// The full copy (the server's WHERE) and the incremental stage (our evaluation) keep the same rows
// of one filter: an ENUM compared with its member text, a case-insensitive column, non-ASCII text
// the server is asked about, and rows moving in and out of the filter by updates.
TEST_F(IncrementalTest, TheCopyAndTheLinkKeepTheSameFilteredRows) {
  const std::string table = R"(CREATE TABLE f (id INT PRIMARY KEY, status ENUM('new','active','closed'),
      region VARCHAR(10) COLLATE utf8mb4_general_ci, city VARCHAR(20) COLLATE utf8mb4_general_ci))";
  Exec(a_.get(), absl::StrCat("USE ", db_, ";", table));
  Exec(b_.get(), absl::StrCat("USE ", db_, ";", table));
  const std::string where = "status IN ('active') AND region = 'EU' AND city >= 'MÜNCHEN'";
  const std::string insert = absl::StrCat("USE ", db_, "; INSERT INTO f VALUES ");
  // Copied rows: two pass, three do not.
  Exec(a_.get(), insert + "(1,'active','eu','München'),(2,'active','EU','Zürich'),(3,'new','eu','München'),"
                          "(4,'active','us','Zürich'),(5,'active','eu','Berlin')");
  StartProject(Config()
                   .MigrationTypes({config::FULL, config::INCREMENTAL})
                   .Objects(absl::StrCat(R"({"tables": [{"schema": ")", db_, R"(", "table": "f", "where": ")",
                                         where, R"("}]})"))
                   .Json());
  ASSERT_TRUE(testing::WaitFor([&] { return testing::LinkStatusOf(*project_).stage() == "incremental"; },
                               absl::Seconds(60)))
      << project_->StatusJson();
  // Streamed changes: in, out, and across the filter.
  Exec(a_.get(), insert + "(6,'active','Eu','münchen'),(7,'closed','eu','Zürich'),(8,'active','eu','munchen')");
  Exec(a_.get(), absl::StrCat("USE ", db_, "; UPDATE f SET status='active' WHERE id=3;"  // enters
                              "UPDATE f SET city='Aachen' WHERE id=2;"                   // leaves
                              "UPDATE f SET region='eU' WHERE id=1;"                     // stays
                              "DELETE FROM f WHERE id=6"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".f ORDER BY id"),
                       absl::StrCat("SELECT * FROM ", db_, ".f WHERE ", where, " ORDER BY id"));
  // 'munchen' >= 'MÜNCHEN': equal under utf8mb4_general_ci (Ü sorts as U).
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT id FROM ", db_, ".f ORDER BY id")),
            (std::vector<std::string>{"1", "3", "8"}));
}

// Statements respect the destination's max_allowed_packet (16 MB here): 9 MB BLOBs go through the
// full copy (two in one chunk) and the incremental stage; a row that can fit no packet stops the
// link naming the row and the setting, applies nothing of its transaction, and the link goes on
// once the setting is raised.
TEST_F(IncrementalTest, BigRowsRespectTheDestinationsPacketLimit) {
  CreateBoth("CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB)");
  // MariaDB's default limit (the harness runs with 256 MiB); restored whatever happens.
  Exec(b_.get(), "SET GLOBAL max_allowed_packet=16777216");
  struct Restore {
    SqlConnection* b;
    ~Restore() { Exec(b, "SET GLOBAL max_allowed_packet=268435456"); }
  } restore{b_.get()};
  // 9 MiB of varied bytes (every byte value, quotes and backslashes included), made on the server.
  const std::string nine_mib = "REPEAT(UNHEX(SHA2(RAND(), 256)), 294912)";
  const std::string use = absl::StrCat("USE ", db_, ";");
  Exec(a_.get(), use + "INSERT INTO big VALUES (1, " + nine_mib + "), (2, " + nine_mib + ")");
  const std::string check = absl::StrCat("SELECT id, LENGTH(b), MD5(b) FROM ", db_, ".big ORDER BY id");
  StartProject(Config().MigrationTypes({config::FULL, config::INCREMENTAL}).Import(db_ + ".big").Json());
  testing::WaitFor([&] {
    const std::string stage = testing::LinkStatusOf(*project_).stage();
    return stage == "incremental" || stage == "failed";
  }, absl::Seconds(60));
  ASSERT_EQ(testing::LinkStatusOf(*project_).stage(), "incremental")
      << project_->StatusJson();
  Exec(a_.get(), use + "INSERT INTO big VALUES (3, " + nine_mib + "); DELETE FROM big WHERE id=2");
  ExpectEventuallySame(check, "", 60);
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".big WHERE LENGTH(b)=9437184"))[0], "2");
  ASSERT_TRUE(project_->Stop().ok());
  project_.reset();

  // The destination now takes 8 MiB at most: a 9 MiB row can never fit. It comes after 4 MiB of
  // smaller rows in its transaction (a piece sent just before it): none of them may stay.
  Exec(b_.get(), "SET GLOBAL max_allowed_packet=8388608");
  Exec(a_.get(), use + "BEGIN; INSERT INTO big SELECT seq, REPEAT(UNHEX(SHA2(seq, 256)), 32768) FROM seq_10_to_13;"
                       "INSERT INTO big VALUES (4, " + nine_mib + "); COMMIT");
  auto project = Project::Create(config_);
  ASSERT_TRUE(project.ok());
  ASSERT_TRUE((*project)->Start().ok());
  absl::Status ended = (*project)->Wait(absl::Seconds(60));
  const std::string status = (*project)->StatusJson();
  Exec(b_.get(), "SET GLOBAL max_allowed_packet=16777216");
  EXPECT_FALSE(ended.ok());
  EXPECT_FALSE(absl::IsDeadlineExceeded(ended)) << "the link must stop, not retry forever: " << status;
  EXPECT_NE(ended.message().find("max_allowed_packet"), std::string::npos) << ended;
  EXPECT_NE(ended.message().find(db_ + ".big"), std::string::npos) << ended;
  EXPECT_NE(ended.message().find("id=4"), std::string::npos) << ended;
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".big WHERE id=4 OR id >= 10"))[0], "0");
  (void)(*project)->Stop();

  // Raised again: the link resumes and applies it.
  StartProject(config_);
  ExpectEventuallySame(check, "", 60);
}

TEST_F(IncrementalTest, TablesWithoutKeysAreFilteredAndReported) {
  CreateBoth("CREATE TABLE keyed (id INT PRIMARY KEY); CREATE TABLE loose (v INT)");
  StartProject(Config().Whitelist(db_ + ".*").Json());
  Exec(a_.get(), absl::StrCat("USE ", db_, "; INSERT INTO loose VALUES (1); INSERT INTO keyed VALUES (1)"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".keyed"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".loose"))[0], "0");
  EXPECT_NE(project_->StatusJson().find(absl::StrCat(db_, ".loose")), std::string::npos);
}

// A wildcard matches a table whose name duosync refuses: its rows are not synced, and the
// link's status names it and says why (not only the precheck).
TEST_F(IncrementalTest, TablesWithRefusedNamesAreLeftOutAndReported) {
  CreateBoth("CREATE TABLE keyed (id INT PRIMARY KEY); CREATE TABLE `odd$$name` (id INT PRIMARY KEY)");
  StartProject(Config().Whitelist(db_ + ".*").Json());
  Exec(a_.get(), absl::StrCat("USE ", db_, "; INSERT INTO `odd$$name` VALUES (1); INSERT INTO keyed VALUES (1)"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".keyed"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".`odd$$name`"))[0], "0");
  const std::string status = project_->StatusJson();
  EXPECT_NE(status.find("refused_tables"), std::string::npos) << status;
  EXPECT_NE(status.find(absl::StrCat(db_, ".odd$$name: table name 'odd$$name' contains '$$'")), std::string::npos)
      << status;
}

TEST_F(IncrementalTest, ResumesFromCheckpointWithoutLossOrDoubles) {
  CreateBoth("CREATE TABLE counter (id INT PRIMARY KEY, n INT)");
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".counter VALUES (1, 0)"));
  Exec(b_.get(), absl::StrCat("INSERT INTO ", db_, ".counter VALUES (1, 0)"));
  const std::string config = TableConfig("counter");
  StartProject(config);
  for (int i = 0; i < 50; ++i) Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".counter SET n = n + 1"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".counter"));
  ASSERT_TRUE(project_->Stop().ok());
  // Written while the link is down: picked up from the checkpoint on the next start.
  for (int i = 0; i < 50; ++i) Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".counter SET n = n + 1"));
  project_.reset();
  StartProject(config);
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".counter"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT n FROM ", db_, ".counter"))[0], "100");
}

TEST_F(IncrementalTest, StartsAtSourceEndAndRecordsItBeforeRunning) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY)");
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (1)"));  // before the start: not synced
  StartProject(TableConfig("t"));
  EXPECT_EQ(Checkpoint(), Rows(a_.get(), "SELECT @@gtid_binlog_pos")[0]);
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (2)"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t"), "SELECT 2");
}

TEST_F(IncrementalTest, SchemaMismatchStopsWithoutAdvancingCheckpoint) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
  Exec(b_.get(), absl::StrCat("ALTER TABLE ", db_, ".t DROP COLUMN v"));
  StartProject(TableConfig("t"));
  const std::string before = Checkpoint();
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (1, 1)"));
  std::string status = WaitForFailure();
  EXPECT_NE(status.find("Unknown column"), std::string::npos) << status;
  EXPECT_NE(status.find(absl::StrCat(db_, ".t")), std::string::npos) << status;
  EXPECT_EQ(Checkpoint(), before);
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t"))[0], "0");
}

TEST_F(IncrementalTest, DroppedDestinationTableStopsTheLink) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY)");
  StartProject(TableConfig("t"));
  Exec(b_.get(), absl::StrCat("DROP TABLE ", db_, ".t"));
  const std::string before = Checkpoint();
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (1)"));
  std::string status = WaitForFailure();
  EXPECT_NE(status.find("doesn't exist"), std::string::npos) << status;
  EXPECT_EQ(Checkpoint(), before);
}

TEST_F(IncrementalTest, MissingDestinationRowStopsTheLink) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (1, 1)"));
  StartProject(TableConfig("t"));
  Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".t SET v = 2 WHERE id = 1"));
  std::string status = WaitForFailure();
  EXPECT_NE(status.find("found no such row"), std::string::npos) << status;
  EXPECT_NE(status.find("id=1"), std::string::npos) << status;
}

TEST_F(IncrementalTest, StatementFormatTransactionStopsTheLinkBeforeIt) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY)");
  StartProject(TableConfig("t"));
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (1)"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t"));
  WaitCheckpointAtSourceEnd();
  const std::string before = Checkpoint();
  Exec(a_.get(), absl::StrCat("SET SESSION binlog_format=STATEMENT; INSERT INTO ", db_,
                              ".t VALUES (2); SET SESSION binlog_format=ROW"));
  std::string status = WaitForFailure();
  EXPECT_NE(status.find("binlog_format=ROW"), std::string::npos) << status;
  EXPECT_EQ(Checkpoint(), before);
}

// A statement-format DML run from another default database still writes the synced table it
// names: the link stops before it. One that names only unsynced tables is passed over.
TEST_F(IncrementalTest, StatementDmlFromAnotherDatabaseStops) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY)");
  const std::string other = "inc_stmt_other";
  Exec(a_.get(), absl::StrCat("CREATE DATABASE IF NOT EXISTS ", other, "; CREATE TABLE IF NOT EXISTS ", other,
                              ".x (id INT PRIMARY KEY)"));
  StartProject(TableConfig("t"));
  // Unsynced only: passed over, the link goes on.
  Exec(a_.get(), absl::StrCat("USE ", other, "; SET SESSION binlog_format=STATEMENT; INSERT INTO x VALUES (1);"
                              "SET SESSION binlog_format=ROW"));
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (1)"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t"));
  WaitCheckpointAtSourceEnd();
  const std::string before = Checkpoint();
  // In one transaction: a synced table named from the other database, then an unsynced one.
  Exec(a_.get(), absl::StrCat("USE ", other, "; SET SESSION binlog_format=STATEMENT; BEGIN;"
                              "INSERT INTO `", db_, "`.t VALUES (2); INSERT INTO x VALUES (2); COMMIT;"
                              "SET SESSION binlog_format=ROW"));
  std::string status = WaitForFailure();
  EXPECT_NE(status.find("binlog_format=ROW"), std::string::npos) << status;
  EXPECT_EQ(Checkpoint(), before);
  Exec(a_.get(), absl::StrCat("DROP DATABASE ", other));
}

TEST_F(IncrementalTest, SourceRestartMidStreamCatchesUp) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
  StartProject(TableConfig("t"));
  for (int i = 0; i < 100; ++i) Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (", i, ", 0)"));
  ASSERT_TRUE(ServerPair::A().Restart().ok());
  a_ = Connect(ServerPair::A());
  for (int i = 100; i < 200; ++i) Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (", i, ", 0)"));
  ExpectEventuallySame(absl::StrCat("SELECT COUNT(*), SUM(id) FROM ", db_, ".t"), "", 60);
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t"))[0], "200");
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

// Rows written before an ADD COLUMN are replayed after it: with column names in the binlog
// (binlog_row_metadata=FULL) they decode by name; without, the link stops with a clear error
// instead of guessing.
TEST_F(IncrementalTest, RowsFromBeforeADdlDecodeByNameOnReplay) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))");
  const std::string config = TableConfig("t");
  StartProject(config);
  ASSERT_TRUE(project_->Stop().ok());
  Exec(a_.get(), absl::StrCat("USE ", db_, "; INSERT INTO t VALUES (1, 'old')"));
  // The seed's manual rule: add the column on the destination first, then on the source.
  Exec(b_.get(), absl::StrCat("ALTER TABLE ", db_, ".t ADD COLUMN c INT NULL"));
  Exec(a_.get(), absl::StrCat("USE ", db_, "; ALTER TABLE t ADD COLUMN c INT NULL;"
                              "INSERT INTO t VALUES (2, 'new', 7)"));
  project_.reset();
  StartProject(config);
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id"));
}

TEST_F(IncrementalTest, RowsFromBeforeADdlWithoutNamesStopTheLinkClearly) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10))");
  const std::string config = TableConfig("t");
  StartProject(config);
  ASSERT_TRUE(project_->Stop().ok());
  Exec(a_.get(), "SET GLOBAL binlog_row_metadata=MINIMAL");
  auto writer = Connect(ServerPair::A());  // a new session picks up the global setting
  Exec(writer.get(), absl::StrCat("USE ", db_, "; INSERT INTO t VALUES (1, 'old')"));
  Exec(a_.get(), "SET GLOBAL binlog_row_metadata=FULL");
  Exec(b_.get(), absl::StrCat("ALTER TABLE ", db_, ".t ADD COLUMN c INT NULL"));
  Exec(a_.get(), absl::StrCat("ALTER TABLE ", db_, ".t ADD COLUMN c INT NULL"));
  project_.reset();
  StartProject(config);
  std::string status = WaitForFailure();
  EXPECT_NE(status.find("binlog_row_metadata=FULL"), std::string::npos) << status;
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

TEST_F(IncrementalTest, SwitchoverSwapsTheRolesWithNothingLost) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, side CHAR(1))");
  StartProject(TableConfig("t"));
  for (int i = 1; i <= 200; ++i) {
    Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (", i, ", 'A')"));
  }
  // No wait for the link: the switchover itself must bring everything across first.
  absl::Status s = project_->Switchover(/*make_source_read_only=*/true, absl::Seconds(30));
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t"))[0], "200");
  EXPECT_EQ(Rows(a_.get(), "SELECT @@global.read_only")[0], "1");
  Exec(a_.get(), "SET GLOBAL read_only=OFF");
  for (int i = 201; i <= 300; ++i) {
    Exec(b_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (", i, ", 'B')"));
  }
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id"));
  EXPECT_EQ(Rows(a_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t"))[0], "300");
  const std::string status = project_->StatusJson();
  EXPECT_NE(status.find("\"name\":\"reverse\",\"stage\":\"incremental\""), std::string::npos) << status;
}

// The swapped roles are kept on the servers: a restart runs the reverse link from where the
// switchover left it (nothing replayed, nothing skipped), the retired forward link cannot be
// resumed, and a second switchover returns the roles.
TEST_F(IncrementalTest, ASwitchoverOutlastsARestartAndASecondOneReturnsTheRoles) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, side CHAR(1)); CREATE TABLE c (id INT PRIMARY KEY, n INT);"
             "INSERT INTO c VALUES (1, 0)");
  const std::string json = Config().Import(db_ + ".t|" + db_ + ".c").Json();
  StartProject(json);
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (1, 'A'); UPDATE ", db_, ".c SET n = n + 1"));
  ASSERT_TRUE(project_->Switchover(false, absl::Seconds(30)).ok());
  Exec(b_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (2, 'B'); UPDATE ", db_, ".c SET n = n + 10"));
  const std::string all = absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id");
  const std::string counter = absl::StrCat("SELECT n FROM ", db_, ".c");
  testing::ExpectSameEventually(a_.get(), b_.get(), {all, counter});

  // A new process (the same config) runs B -> A, from where the first left off.
  project_.reset();
  Exec(b_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (3, 'B'); UPDATE ", db_, ".c SET n = n + 100"));
  StartProject(json);
  testing::ExpectSameEventually(a_.get(), b_.get(), {all, counter});
  EXPECT_EQ(Rows(a_.get(), counter)[0], "111") << "each of B's updates applied once";
  const report::ProjectStatus status = testing::StatusOf(*project_);
  ASSERT_EQ(status.links_size(), 1);
  EXPECT_EQ(status.links(0).name(), "reverse");
  // The retired link stays retired: A's writes do not reach B.
  EXPECT_THAT(project_->Resume("forward"), testing::StatusIs(absl::StatusCode::kNotFound));

  // The second switchover returns the roles, from A's end.
  ASSERT_TRUE(project_->Switchover(false, absl::Seconds(30)).ok());
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (4, 'A'); UPDATE ", db_, ".c SET n = n + 1000"));
  testing::ExpectSameEventually(a_.get(), b_.get(), {all, counter});
  EXPECT_EQ(Rows(b_.get(), counter)[0], "1111");
  project_.reset();
  StartProject(json);
  EXPECT_EQ(testing::LinkStatusOf(*project_).name(), "forward");
  Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".c SET n = n + 10000"));
  testing::ExpectSameEventually(a_.get(), b_.get(), {all, counter});
  EXPECT_EQ(Rows(b_.get(), counter)[0], "11111");
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t"))[0], "4");
}

// After a failover to a replica that had fewer transactions, the new primary reuses sequence
// numbers under its own server id: a transaction must not be taken for one applied before just
// because its domain and sequence number were seen.
TEST_F(IncrementalTest, AReusedSequenceNumberIsNotTakenForAnAppliedOne) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, v INT)");
  const std::string config = TableConfig("t");
  StartProject(config);
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (1, 1)"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t"));
  WaitCheckpointAtSourceEnd();
  project_.reset();
  // The next GTID A writes, as another server had used it: recorded as applied on B.
  const std::vector<std::string> last = absl::StrSplit(Rows(a_.get(), "SELECT @@last_gtid")[0], '-');
  ASSERT_EQ(last.size(), 3u);
  Exec(b_.get(), absl::StrCat("INSERT INTO duosync.applied (link_id, domain_id, server_id, seq) VALUES ('", db_,
                              "/forward', ", last[0], ", 999, ", std::stoull(last[2]) + 1, ")"));
  StartProject(config);
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (2, 2)"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t"))[0], "2");
}

TEST_F(IncrementalTest, SwitchoverIsRefusedForActiveActiveAndStoppedProjects) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY)");
  auto p = Project::Create(TableConfig("t"));
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition((*p)->Switchover(false, absl::Seconds(1))));
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

// The binlog strips BINARY(n)'s trailing zero bytes; keys must still match.
TEST_F(IncrementalTest, BinaryKeysEndingInZeroBytesUpdateAndDelete) {
  CreateBoth("CREATE TABLE t (k BINARY(4) PRIMARY KEY, v INT, b BINARY(3))");
  StartProject(TableConfig("t"));
  Exec(a_.get(), absl::StrCat("USE ", db_, "; INSERT INTO t VALUES (0x61620000, 1, 0x0100), (0x00000000, 2, NULL);"
                              "UPDATE t SET v = 10, b = 0x000000 WHERE k = 0x61620000;"
                              "DELETE FROM t WHERE k = 0x00000000"));
  ExpectEventuallySame(absl::StrCat("SELECT HEX(k), v, HEX(b) FROM ", db_, ".t ORDER BY k"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT HEX(k), v, HEX(b) FROM ", db_, ".t")),
            std::vector<std::string>{"61620000|10|000000"});
}

TEST_F(IncrementalTest, PartialRowImagesStopTheLinkInsteadOfWritingNulls) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY, a INT, note VARCHAR(10))");
  StartProject(TableConfig("t"));
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (1, 1, 'keep')"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t"));
  Exec(a_.get(), absl::StrCat("SET SESSION binlog_row_image=MINIMAL; UPDATE ", db_,
                              ".t SET a = 2 WHERE id = 1; SET SESSION binlog_row_image=FULL"));
  std::string status = WaitForFailure();
  EXPECT_NE(status.find("partial row image"), std::string::npos) << status;
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT * FROM ", db_, ".t")), std::vector<std::string>{"1|1|keep"});
}

TEST_F(IncrementalTest, StatementFormatOutsideTheSyncedSchemasIsPassedOver) {
  CreateBoth("CREATE TABLE t (id INT PRIMARY KEY)");
  Exec(a_.get(), "CREATE DATABASE IF NOT EXISTS unsynced_scratch; CREATE TABLE IF NOT EXISTS unsynced_scratch.x (a INT)");
  StartProject(TableConfig("t"));
  Exec(a_.get(), "USE unsynced_scratch; SET SESSION binlog_format=STATEMENT; INSERT INTO x VALUES (1);"
                 "SET SESSION binlog_format=ROW");
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (1)"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t"));
  EXPECT_EQ(project_->StatusJson().find("failed"), std::string::npos) << project_->StatusJson();
}

}  // namespace
}  // namespace duosync
