// A live link from a MySQL-dialect source: server A seen through harness::MysqlDialectSource, which
// serves A's binlog rewritten as OceanBase's binlog service (MySQL 5.7, GTIDs, no column names) or
// a MySQL 8 server without GTIDs would send it, over the replication protocol. The link finds its
// start by GTID set or file place, follows the stream as A is written, and survives kill -9s of
// its process and dropped source connections with nothing lost or applied twice. Rows without
// column names decode by the link's schema history while it lags behind DDL.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "duosync/project.h"
#include "harness/mysql_dialect_source.h"
#include "integration/cli_process.h"
#include "support/test_support.h"

namespace duosync {
namespace {

namespace fs = std::filesystem;
using testing::Connect;
using testing::Exec;
using testing::Rows;
using testing::ServerPair;

// OceanBase takes a GTID set (COM_BINLOG_DUMP_GTID); a MySQL 5.7 without that dump is read from
// the file that holds the set's next transaction; MySQL 8 without GTIDs by file place.
enum class SourceKind { kOceanbase, kMysql57WithoutGtidDump, kMysql8WithoutGtid };

class MysqlSourceTest : public ::testing::TestWithParam<SourceKind> {
 protected:
  void SetUp() override {
    a_ = Connect(ServerPair::A());
    b_ = Connect(ServerPair::B());
    // A database (and so link ids and checkpoints) of each test's own: "Test/Param" is no name.
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    db_ = absl::StrCat("my", test.substr(0, std::min<size_t>(test.find('/'), 40)), "_", static_cast<int>(GetParam()));
    const std::string tables =
        "CREATE TABLE counter (id INT PRIMARY KEY, n BIGINT NOT NULL);"
        "CREATE TABLE items (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(64), UNIQUE KEY (note));"
        "INSERT INTO counter VALUES (1, 0)";
    for (SqlConnection* c : {a_.get(), b_.get()}) testing::ResetDatabase(c, db_, tables);
    // B counts the counter updates it applies: a transaction applied twice (or lost) shows there.
    Exec(b_.get(), absl::StrCat("USE ", db_, "; CREATE TABLE applied (k INT PRIMARY KEY, updates BIGINT);"
                                "INSERT INTO applied VALUES (1, 0);"
                                "CREATE TRIGGER count_updates AFTER UPDATE ON counter FOR EACH ROW "
                                "UPDATE applied SET updates = updates + 1 WHERE k = 1"));
    // A binlog file of this test's own: a GTID-set start reads its file from the beginning, and
    // the proxy rewrites the whole file as it grows (earlier tests may have left it big).
    Exec(a_.get(), "FLUSH BINARY LOGS");
    harness::MysqlDialect d;
    d.server_version = GetParam() == SourceKind::kOceanbase  ? "5.7.25-OceanBase_CE-v4.2.1.0"
                       : GetParam() == SourceKind::kMysql8WithoutGtid ? "8.0.36"
                                                                      : "5.7.44-log";
    d.gtids = GetParam() != SourceKind::kMysql8WithoutGtid;
    d.column_names = GetParam() == SourceKind::kMysql8WithoutGtid;
    d.dump_by_gtids = GetParam() == SourceKind::kOceanbase;
    auto source = harness::MysqlDialectSource::Start(ServerPair::A().Options(), d);
    ASSERT_TRUE(source.ok()) << source.status();
    source_ = *std::move(source);
    dir_ = fs::path(::testing::TempDir()) / db_;
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A project whose endpoint a is server A seen through the MySQL-dialect source.
  testing::ConfigBuilder ThroughTheSource() {
    const ConnectOptions a = ServerPair::A().Options();
    testing::ConfigBuilder config(db_);
    config.EndpointA(absl::StrCat(R"({"region": "region-1", "host": "127.0.0.1", "port": )", source_->port(),
                                  R"(, "user": ")", a.user, R"(", "password": ")", a.password, R"("})"));
    return config;
  }

  // Table t (id, a, b) on both sides, synced with its DDL: the project's config.
  std::string TableWithDdlSync() {
    for (SqlConnection* c : {a_.get(), b_.get()}) {
      Exec(c, absl::StrCat("CREATE TABLE ", db_, ".t (id INT PRIMARY KEY, a VARCHAR(10), b INT)"));
    }
    testing::ConfigBuilder config = ThroughTheSource();
    config.Forward(R"({"ddl": true})").Objects(absl::StrCat(R"({"rules": {"whitelist": [")", db_, R"(.t"]}})"));
    return config.Json();
  }

  std::string ConfigJson() {
    testing::ConfigBuilder config = ThroughTheSource();
    config.Import(absl::StrCat(db_, ".counter|", db_, ".items")).ForwardOptions(R"({"apply_workers": 8})");
    return config.Json();
  }

  // Transaction i on A: the counter, a new row, an update of an older one, now and then a unique
  // value moved from one row to the next, and a delete.
  void Write(SqlConnection* w, int i) {
    std::string sql = absl::StrCat("BEGIN; UPDATE counter SET n = n + 1 WHERE id = 1;"
                                   "INSERT INTO items VALUES (", i, ", 0, 'note ", i, "');"
                                   "UPDATE items SET v = v + 1 WHERE id = ", 1 + (i * 7919 + 13) % i, ";");
    if (i % 5 == 0) absl::StrAppend(&sql, "UPDATE items SET note = NULL WHERE id = ", i - 1, ";",
                                    "UPDATE items SET note = 'note ", i - 1, "' WHERE id = ", i, ";");
    if (i % 11 == 0) absl::StrAppend(&sql, "DELETE FROM items WHERE id = ", i - 2, ";");
    Exec(w, sql + "COMMIT");
  }

  bool Same() {
    for (const char* t : {"counter", "items"}) {
      const std::string q = absl::StrCat("SELECT * FROM ", db_, ".", t, " ORDER BY 1");
      if (Rows(a_.get(), q) != Rows(b_.get(), q)) return false;
    }
    return true;
  }

  // The link's recorded position on B ("" until the link has made its tables and started).
  std::string Checkpoint() {
    auto rows = b_->Query(absl::StrCat("SELECT position FROM duosync.checkpoint WHERE link_id='", db_, "/forward'"));
    return rows.ok() && !rows->empty() ? (*rows)[0][0].value_or("") : "";
  }

  std::unique_ptr<SqlConnection> a_, b_;
  std::string db_;
  std::unique_ptr<harness::MysqlDialectSource> source_;
  fs::path dir_;
};

std::string SourceName(const ::testing::TestParamInfo<SourceKind>& info) {
  switch (info.param) {
    case SourceKind::kOceanbase: return "OceanbaseGtidsNoNames";
    case SourceKind::kMysql57WithoutGtidDump: return "Mysql57GtidsByFiles";
    default: return "Mysql8FilePlaces";
  }
}

INSTANTIATE_TEST_SUITE_P(Sources, MysqlSourceTest,
                         ::testing::Values(SourceKind::kOceanbase, SourceKind::kMysql57WithoutGtidDump,
                                           SourceKind::kMysql8WithoutGtid),
                         SourceName);

// The longer tests run where they differ: a start by GTID set and by file place (the start by
// files for a GTID set is covered above); active-active with OceanBase, the production source.
class MysqlSourceKillTest : public MysqlSourceTest {};
INSTANTIATE_TEST_SUITE_P(Sources, MysqlSourceKillTest,
                         ::testing::Values(SourceKind::kOceanbase, SourceKind::kMysql8WithoutGtid), SourceName);
class MysqlActiveActiveTest : public MysqlSourceTest {};
INSTANTIATE_TEST_SUITE_P(Sources, MysqlActiveActiveTest, ::testing::Values(SourceKind::kOceanbase), SourceName);

TEST_P(MysqlSourceKillTest, FollowsTheSourceExactlyOnceAcrossKillNinesAndDroppedConnections) {
  constexpr int kTransactions = 1500;
  const std::string config_path = (dir_ / "project.json").string();
  std::ofstream(config_path) << ConfigJson();
  const std::string log_path = (dir_ / "run.log").string();
  auto log_text = [&] {
    std::ifstream log(log_path);
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    return text.substr(text.size() > 6000 ? text.size() - 6000 : 0);
  };
  pid_t run = testing::StartCliRun(config_path, log_path);
  // The link starts at the source's end: writing begins once it has recorded where that is.
  ASSERT_TRUE(testing::WaitFor([&] { return !Checkpoint().empty(); }, absl::Seconds(60))) << log_text();
  const std::string start = Checkpoint();
  if (GetParam() != SourceKind::kMysql8WithoutGtid) {
    EXPECT_TRUE(absl::StartsWith(start, harness::RewrittenUuid(0).substr(0, 24))) << start;  // a MySQL GTID set
  } else {
    EXPECT_TRUE(absl::StrContains(start, ".0") && !absl::StrContains(start, "-")) << start;  // a file place
  }

  std::atomic<int> written{0};
  std::thread writer([&] {
    auto w = Connect(ServerPair::A(), db_);
    for (int i = 1; i <= kTransactions; ++i) {
      Write(w.get(), i);
      written = i;
      if (i % 400 == 0) Exec(w.get(), "FLUSH BINARY LOGS");  // the stream rotates to new files
      if (i % 20 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(80));  // room for kills
    }
  });
  std::mt19937 rng(7);
  int kills = 0, drops = 0;
  bool same = false;
  auto applied = [&] { return Rows(b_.get(), absl::StrCat("SELECT n FROM ", db_, ".counter"))[0]; };
  std::string applied_at_start = applied();
  for (int i = 0; i < 900 && !same; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 200));
    same = written == kTransactions && Same();
    if (same) break;
    // A kill lands mid-stream: the restarted process has applied something, more is coming.
    const std::string at = applied();
    if (kills < 5 && at != applied_at_start && std::stoi(at) < kTransactions) {
      kill(run, SIGKILL);
      waitpid(run, nullptr, 0);
      ++kills;
      applied_at_start = at;
      run = testing::StartCliRun(config_path, log_path);
    } else if (drops < 2 && i % 7 == 3) {
      source_->DropConnections();  // the source restarted, or the network cut
      ++drops;
    }
  }
  writer.join();
  if (!same) same = testing::WaitFor([&] { return Same(); }, absl::Seconds(60));
  int exit_status = 0;
  const bool exited = !same && waitpid(run, &exit_status, WNOHANG) == run;
  if (exited) ADD_FAILURE() << "the duosync process exited by itself: status " << exit_status << " signal "
                            << (WIFSIGNALED(exit_status) ? WTERMSIG(exit_status) : 0);
  const std::string sessions = same ? "" : absl::StrJoin(Rows(b_.get(),
      "SELECT ID, USER, COMMAND, TIME, STATE, LEFT(INFO, 100) FROM information_schema.PROCESSLIST "
      "WHERE USER <> 'system user'"), "\n");
  const std::string source_sessions = same ? "" : absl::StrJoin(Rows(a_.get(),
      "SELECT ID, USER, COMMAND, TIME, STATE, LEFT(INFO, 100) FROM information_schema.PROCESSLIST "
      "WHERE USER <> 'system user'"), "\n");
  kill(run, SIGTERM);
  waitpid(run, nullptr, 0);
  ASSERT_TRUE(same) << "B differs from A after " << kills << " kills: counter "
                    << Rows(a_.get(), absl::StrCat("SELECT n FROM ", db_, ".counter"))[0] << " on A, "
                    << Rows(b_.get(), absl::StrCat("SELECT n FROM ", db_, ".counter"))[0] << " on B after "
                    << Rows(b_.get(), absl::StrCat("SELECT updates FROM ", db_, ".applied"))[0]
                    << " updates; B's sessions:\n" << sessions << "\nA's sessions:\n" << source_sessions
                    << "\nlog:\n" << log_text();
  EXPECT_GE(kills, 2) << "the stream was applied before the kills; the test proves less";
  // Every process dumped by GTID set, but one whose first dump met a dropped connection, which
  // falls back to the file start.
  if (GetParam() == SourceKind::kOceanbase) {
    EXPECT_GE(source_->dumps_by_gtids() + drops, kills + 1) << "starts that did not dump by GTID set";
  }
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT n FROM ", db_, ".counter"))[0], std::to_string(kTransactions));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT updates FROM ", db_, ".applied"))[0], std::to_string(kTransactions))
      << "a transaction was applied twice (or lost)";
  EXPECT_EQ(log_text().find("failed:"), std::string::npos) << log_text();
}

// The link lags while the table changes shape: a column dropped and another of the same type
// added (matching by position would put b's values into c), then one added in the middle, with a
// restart somewhere in the backlog. OceanBase's rows name no columns: they decode by the schema
// history, kept by GTID set; MySQL 8's by name, positions by file place.
TEST_P(MysqlSourceTest, RowsWrittenBeforeEachDdlKeepTheirColumnsWhileTheLinkLags) {
  const std::string config = TableWithDdlSync();
  std::unique_ptr<Project> project;
  auto start = [&] {
    auto p = Project::Create(config);
    ASSERT_TRUE(p.ok()) << p.status();
    project = *std::move(p);
    ASSERT_TRUE(project->Start().ok());
  };
  auto same = [&] {
    const std::string q = absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id");
    return testing::WaitFor([&] { return Rows(a_.get(), q) == Rows(b_.get(), q); }, absl::Seconds(60));
  };
  start();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(testing::WaitFor([&] { return !Checkpoint().empty(); }, absl::Seconds(60)));
  ASSERT_TRUE(project->Stop().ok());  // from here the link lags behind the writes

  auto w = Connect(ServerPair::A(), db_);
  Exec(w.get(), "INSERT INTO t VALUES (1, 'a1', 10), (2, 'a2', 20)");
  Exec(w.get(), "ALTER TABLE t DROP COLUMN b, ADD COLUMN c INT");
  Exec(w.get(), "INSERT INTO t VALUES (3, 'a3', 30)");
  Exec(w.get(), "UPDATE t SET c = 21 WHERE id = 2");
  project.reset();
  start();
  EXPECT_TRUE(same()) << project->StatusJson();
  ASSERT_TRUE(project->Stop().ok());

  Exec(w.get(), "UPDATE t SET a = 'a1x' WHERE id = 1");
  Exec(w.get(), "ALTER TABLE t ADD COLUMN d VARCHAR(5) AFTER id");
  for (int i = 4; i < 200; ++i) Exec(w.get(), absl::StrCat("INSERT INTO t VALUES (", i, ", 'd', 'a", i, "', ", i, ")"));
  Exec(w.get(), "ALTER TABLE t DROP COLUMN a");
  Exec(w.get(), "UPDATE t SET d = 'd2' WHERE id = 2");
  Exec(w.get(), "DELETE FROM t WHERE id = 3");
  project.reset();
  start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  project.reset();  // wherever it got to
  start();
  EXPECT_TRUE(same()) << project->StatusJson();
  const std::string checksum = absl::StrCat("CHECKSUM TABLE ", db_, ".t");
  EXPECT_EQ(Rows(a_.get(), checksum), Rows(b_.get(), checksum));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT d, c FROM ", db_, ".t WHERE id = 2"))[0], "d2|21");
}

// A history kept by a version that did not follow MySQL-dialect DDL holds only the definitions
// from when the link started: after an upgrade it is not used (rows decode by today's
// definitions, as before) rather than put values into columns a DDL since has replaced.
TEST_P(MysqlSourceTest, AHistoryThatDidNotFollowMysqlDdlIsNotUsed) {
  const std::string config = TableWithDdlSync();
  auto created = Project::Create(config);
  ASSERT_TRUE(created.ok()) << created.status();
  std::unique_ptr<Project> project = *std::move(created);
  ASSERT_TRUE(project->Start().ok());
  ASSERT_TRUE(testing::WaitFor([&] { return !Checkpoint().empty(); }, absl::Seconds(60)));
  auto w = Connect(ServerPair::A(), db_);
  Exec(w.get(), "ALTER TABLE t DROP COLUMN b, ADD COLUMN c INT");
  const std::string q = absl::StrCat("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='", db_,
                                     "' AND TABLE_NAME='t' AND COLUMN_NAME='c'");
  ASSERT_TRUE(testing::WaitFor([&] { return Rows(b_.get(), q)[0] == "1"; }, absl::Seconds(60)));
  project.reset();
  // As an older version left it: the start definitions, no DDL, no mark.
  const std::string link = absl::StrCat("'", db_, "/forward'");
  Exec(b_.get(), absl::StrCat("DELETE FROM duosync.schema_history WHERE link_id=", link, " AND seq <> 0;"
                              "UPDATE duosync.schema_history SET source='' WHERE link_id=", link));
  Exec(w.get(), "INSERT INTO t VALUES (1, 'a1', 10)");
  created = Project::Create(config);
  ASSERT_TRUE(created.ok());
  project = *std::move(created);
  ASSERT_TRUE(project->Start().ok());
  const std::string rows = absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id");
  EXPECT_TRUE(testing::WaitFor([&] { return Rows(a_.get(), rows) == Rows(b_.get(), rows); }, absl::Seconds(60)))
      << project->StatusJson();
}

// Active-active with a MySQL-dialect region: precheck says the session origin cannot survive in
// its binlog and asks for the marker table, which passes.
TEST_P(MysqlActiveActiveTest, ActiveActiveWithAMysqlDialectRegionNeedsTheMarkerTable) {
  for (const std::string mode : {"SESSION_ORIGIN", "MARKER_TABLE"}) {
    testing::ConfigBuilder builder = ThroughTheSource();
    builder.Objects(absl::StrCat(R"({"rules": {"whitelist": [")", db_, R"(.items"]}})"))
        .ActiveActive(absl::StrCat(R"({"loop_prevention": ")", mode, R"("})"));
    auto project = Project::Create(builder.Json());
    ASSERT_TRUE(project.ok()) << project.status();
    bool ok = false;
    const std::string report = (*project)->Precheck(&ok);
    const bool refused = absl::StrContains(report, "set active_active.loop_prevention to MARKER_TABLE");
    EXPECT_EQ(refused, mode == "SESSION_ORIGIN") << mode << ": " << report;
    if (mode == "SESSION_ORIGIN") EXPECT_FALSE(ok) << report;
  }
}

// Active-active between a MySQL-dialect region (A, through the test source) and a MariaDB one
// (B) with the marker table: writes in both regions end identical, and nothing echoes (A's binlog
// stops growing once the writers stop).
TEST_P(MysqlActiveActiveTest, ActiveActiveWithAMysqlDialectRegionConvergesWithoutEchoes) {
  testing::ConfigBuilder builder = ThroughTheSource();
  builder.Objects(absl::StrCat(R"({"rules": {"whitelist": [")", db_, R"(.items"]}})"))
      .ActiveActive(R"({"loop_prevention": "MARKER_TABLE"})");
  auto created = Project::Create(builder.Json());
  ASSERT_TRUE(created.ok()) << created.status();
  std::unique_ptr<Project> project = *std::move(created);
  ASSERT_TRUE(project->Start().ok());
  ASSERT_TRUE(testing::WaitFor([&] { return !Checkpoint().empty(); }, absl::Seconds(60)));
  std::thread in_b([&] {
    auto w = Connect(ServerPair::B(), db_);
    for (int i = 1; i <= 200; ++i) {
      Exec(w.get(), absl::StrCat("INSERT INTO items VALUES (", 100000 + i, ", ", i, ", 'b", i, "')"));
      if (i % 3 == 0) Exec(w.get(), absl::StrCat("UPDATE items SET v = v + 1 WHERE id = ", 100000 + i));
    }
  });
  auto w = Connect(ServerPair::A(), db_);
  for (int i = 1; i <= 200; ++i) {
    Exec(w.get(), absl::StrCat("INSERT INTO items VALUES (", i, ", ", i, ", 'a", i, "')"));
    if (i % 4 == 0) Exec(w.get(), absl::StrCat("DELETE FROM items WHERE id = ", i - 1));
  }
  in_b.join();
  const std::string q = absl::StrCat("SELECT * FROM ", db_, ".items ORDER BY id");
  EXPECT_TRUE(testing::WaitFor([&] { return Rows(a_.get(), q) == Rows(b_.get(), q); }, absl::Seconds(60)))
      << project->StatusJson();
  EXPECT_EQ(Rows(a_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".items"))[0], "350");
  // Settled: neither binlog grows any more (an echo would go round and round).
  auto ends = [&] { return Rows(a_.get(), "SELECT @@gtid_binlog_pos")[0] + " " + Rows(b_.get(), "SELECT @@gtid_binlog_pos")[0]; };
  std::string before = ends();
  ASSERT_TRUE(testing::WaitFor([&] {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const std::string now = ends();
    const bool still = now == before;
    before = now;
    return still;
  }, absl::Seconds(30))) << "the binlogs never stop growing (changes keep coming back): " << before;
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(ends(), before) << "changes came back after a pause";
}

// A transaction too big to hold whole (parts of 1 MiB here) is applied as one destination
// transaction; stopped while it is being applied, nothing of it commits, and the next run applies
// it once. (Transactions without GTIDs, known by where they end, are held whole.)
TEST_P(MysqlSourceTest, AHugeTransactionIsAppliedInPartsOnceAcrossAStop) {
  testing::ConfigBuilder builder = ThroughTheSource();
  builder.Import(db_ + ".items")
      .ForwardOptions(R"({"transaction_part_mb": 1})");
  const std::string config = builder.Json();
  auto started = Project::Create(config);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<Project> project = *std::move(started);
  ASSERT_TRUE(project->Start().ok());
  ASSERT_TRUE(testing::WaitFor([&] { return !Checkpoint().empty(); }, absl::Seconds(60)));
  Exec(a_.get(), absl::StrCat("USE ", db_, "; BEGIN;"
                              "INSERT INTO items SELECT seq, seq, CONCAT('n', seq) FROM seq_1_to_60000;"
                              "UPDATE items SET v = -v WHERE id <= 100;"
                              "DELETE FROM items WHERE id > 59950;"
                              "COMMIT"));
  auto dirty = Connect(ServerPair::B(), db_);  // sees uncommitted rows
  Exec(dirty.get(), "SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED");
  ASSERT_TRUE(testing::WaitFor([&] { return Rows(dirty.get(), "SELECT COUNT(*) FROM items")[0] != "0"; },
                               absl::Seconds(60)));
  project.reset();  // while its rows are being applied
  const std::string after_stop = Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".items"))[0];
  auto again = Project::Create(config);
  ASSERT_TRUE(again.ok());
  project = *std::move(again);
  ASSERT_TRUE(project->Start().ok());
  const std::string q = absl::StrCat("SELECT COUNT(*), SUM(v), SUM(id) FROM ", db_, ".items");
  EXPECT_TRUE(testing::WaitFor([&] { return Rows(a_.get(), q) == Rows(b_.get(), q); }, absl::Seconds(120)))
      << project->StatusJson();
  EXPECT_TRUE(after_stop == "0" || after_stop == "59950") << after_stop << " rows: a part was committed alone";
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".items"))[0], "59950");
}

}  // namespace
}  // namespace duosync
