// Roll-forward from binlog files: a copy of server A's binlog files, applied to B (which holds the
// start state) by a link whose source endpoint is a directory. Exactly once across kill -9s, files
// that appear later are followed, and a missing file stops the link instead of skipping changes.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "harness/mysql_dialect_rewriter.h"
#include "source/binlog_file.h"
#include "source/transaction_assembler.h"
#include "sql/sql_literal.h"
#include "integration/cli_process.h"
#include "support/test_support.h"

namespace duosync {
namespace {

namespace fs = std::filesystem;
using testing::Connect;
using testing::Exec;
using testing::Rows;
using testing::ServerPair;

constexpr const char* kTables =
    "CREATE TABLE counter (id INT PRIMARY KEY, n BIGINT NOT NULL);"
    "CREATE TABLE items (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(64), doc LONGTEXT,"
    " UNIQUE KEY by_note (note));"
    "INSERT INTO counter VALUES (1, 0)";

// Who wrote the files the link applies: the MariaDB server itself, or (rewritten from its files
// event for event, harness/mysql_dialect_rewriter.h) a MySQL-dialect source.
enum class FileDialect {
  kMariadb,
  kOceanbase,         // MySQL 5.7 with GTIDs and no column names, as OceanBase's binlog service
  kMysql8WithoutGtid  // MySQL 8 with gtid_mode OFF: transactions known by file place
};

class BinlogFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = Connect(ServerPair::A());
    b_ = Connect(ServerPair::B());
    db_ = DatabaseName();
    for (SqlConnection* c : {a_.get(), b_.get()}) testing::ResetDatabase(c, db_, kTables);
    // B counts the counter updates it applies: a transaction applied twice shows there.
    Exec(b_.get(), absl::StrCat("USE ", db_, "; CREATE TABLE applied (k INT PRIMARY KEY, updates BIGINT);"
                                "INSERT INTO applied VALUES (1, 0);"
                                "CREATE TRIGGER count_updates AFTER UPDATE ON counter FOR EACH ROW "
                                "UPDATE applied SET updates = updates + 1 WHERE k = 1"));
    // The files to apply start here: everything before is the start state B already has.
    Exec(a_.get(), "FLUSH BINARY LOGS");
    first_file_ = CurrentFile();
    dir_ = fs::path(::testing::TempDir()) / db_;
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "binlogs");
  }
  void TearDown() override { fs::remove_all(dir_); }
  virtual std::string DatabaseName() const { return testing::TestDatabase("bf"); }

  std::string CurrentFile() {
    const std::string status = Rows(a_.get(), "SHOW MASTER STATUS")[0];
    return status.substr(0, status.find('|'));
  }

  // Transactions [from, to) on A, with a new binlog file every `per_file`.
  void Write(int from, int to, int per_file) {
    auto w = Connect(ServerPair::A(), db_);
    for (int i = from; i < to; ++i) {
      std::string sql = absl::StrCat("BEGIN; UPDATE counter SET n = n + 1 WHERE id = 1;"
                                     "INSERT INTO items VALUES (", i, ", 0, 'note ", i, "', '{\"i\": ", i, "}');"
                                     "UPDATE items SET v = v + 1 WHERE id = ", 1 + (i * 7919 + 13) % i, ";");
      // A unique value moves from one row to another, in order, now and then.
      if (i % 5 == 0) absl::StrAppend(&sql, "UPDATE items SET note = NULL WHERE id = ", i - 1, ";",
                                      "UPDATE items SET note = 'note ", i - 1, "' WHERE id = ", i, ";");
      if (i % 11 == 0) absl::StrAppend(&sql, "DELETE FROM items WHERE id = ", i - 2, ";");
      Exec(w.get(), sql + "COMMIT");
      if (per_file > 0 && i % per_file == 0) Exec(w.get(), "FLUSH BINARY LOGS");
    }
  }

  // Copies A's binlog files from the first one of the test to the current one (or `until`), in
  // the test's dialect. Returns the names in the directory.
  std::vector<std::string> CopyFiles(const std::string& until = "") {
    const std::string basename = Rows(a_.get(), "SELECT @@log_bin_basename")[0];
    std::vector<std::string> copied;
    for (const std::string& row : Rows(a_.get(), "SHOW BINARY LOGS")) {
      const std::string name = row.substr(0, row.find('|'));
      if (name < first_file_ || (!until.empty() && name > until)) continue;
      const fs::path from = fs::path(basename).parent_path() / name;
      if (dialect_ == FileDialect::kMariadb) {
        fs::copy_file(from, dir_ / "binlogs" / name, fs::copy_options::overwrite_existing);
        copied.push_back(name);
        continue;
      }
      harness::MysqlDialect d;
      d.server_version = dialect_ == FileDialect::kOceanbase ? "5.7.25-OceanBase_CE-v4.2.1.0" : "8.0.36";
      d.gtids = dialect_ == FileDialect::kOceanbase;
      d.column_names = dialect_ != FileDialect::kOceanbase;
      const std::string mysql_name = "mysql-bin" + name.substr(name.rfind('.'));
      const absl::Status s = harness::RewriteAsMysql(from.string(), (dir_ / "binlogs" / mysql_name).string(), d);
      EXPECT_TRUE(s.ok()) << s;
      copied.push_back(mysql_name);
    }
    return copied;
  }

  std::string ConfigJson() {
    testing::ConfigBuilder config(db_);
    config.EndpointA(absl::StrCat(R"({"binlog_dir": ")", (dir_ / "binlogs").string(), R"("})"))
        .Import(absl::StrCat(db_, ".counter|", db_, ".items"))
        .ForwardOptions(R"({"apply_workers": 8})");
    return config.Json();
  }

  bool Same() {
    for (const char* t : {"counter", "items"}) {
      const std::string q = absl::StrCat("SELECT * FROM ", db_, ".", t, " ORDER BY 1");
      if (Rows(a_.get(), q) != Rows(b_.get(), q)) return false;
    }
    return true;
  }

  std::unique_ptr<SqlConnection> a_, b_;
  std::string db_, first_file_;
  fs::path dir_;
  FileDialect dialect_ = FileDialect::kMariadb;
};

class BinlogFilesDialectTest : public BinlogFilesTest, public ::testing::WithParamInterface<FileDialect> {
 protected:
  void SetUp() override {
    BinlogFilesTest::SetUp();
    dialect_ = GetParam();
  }
  // "Test/Param" is no database name, and may be too long for one.
  std::string DatabaseName() const override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    return absl::StrCat("bf", name.substr(0, std::min<size_t>(name.find('/'), 24)), "_", static_cast<int>(GetParam()));
  }
};

INSTANTIATE_TEST_SUITE_P(Dialects, BinlogFilesDialectTest,
                         ::testing::Values(FileDialect::kMariadb, FileDialect::kOceanbase,
                                           FileDialect::kMysql8WithoutGtid),
                         [](const ::testing::TestParamInfo<FileDialect>& info) {
                           return info.param == FileDialect::kMariadb     ? "Mariadb"
                                  : info.param == FileDialect::kOceanbase ? "OceanbaseGtidsNoNames"
                                                                          : "Mysql8FilePlaces";
                         });

TEST_P(BinlogFilesDialectTest, ADirectoryOfFilesIsAppliedExactlyOnceAcrossKillNines) {
  constexpr int kTransactions = 3000;
  Write(1, kTransactions + 1, /*per_file=*/600);
  ASSERT_GE(CopyFiles().size(), 5u);
  const std::string config_path = (dir_ / "project.json").string();
  std::ofstream(config_path) << ConfigJson();
  const std::string log_path = (dir_ / "run.log").string();

  pid_t run = testing::StartCliRun(config_path, log_path);
  std::mt19937 rng(11);
  int kills = 0;
  bool same = false;
  for (int i = 0; i < 600 && !same; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 300));
    same = Same();
    if (!same && kills < 6) {
      kill(run, SIGKILL);
      waitpid(run, nullptr, 0);
      ++kills;
      run = testing::StartCliRun(config_path, log_path);
    }
  }
  kill(run, SIGTERM);
  waitpid(run, nullptr, 0);
  std::ifstream log(log_path);
  std::string log_text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(same) << "B differs from A after " << kills << " kills; log:\n"
                    << log_text.substr(log_text.size() > 4000 ? log_text.size() - 4000 : 0);
  EXPECT_GE(kills, 1) << "the files were applied before the first kill; the test proves less";
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT n FROM ", db_, ".counter"))[0], std::to_string(kTransactions));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT updates FROM ", db_, ".applied"))[0],
            std::to_string(kTransactions))
      << "a transaction was applied twice (or lost)";
  EXPECT_EQ(log_text.find("failed:"), std::string::npos) << log_text;
}

TEST_P(BinlogFilesDialectTest, FilesThatAppearLaterAreFollowedAndAGapStopsTheLink) {
  Write(1, 301, /*per_file=*/100);
  const auto first_batch = CopyFiles();
  ASSERT_GE(first_batch.size(), 3u);
  auto project = Project::Create(ConfigJson());
  ASSERT_TRUE(project.ok()) << project.status();
  ASSERT_TRUE((*project)->Start().ok());
  ASSERT_TRUE(testing::WaitFor([&] { return Same(); }, absl::Seconds(60)));
  // More transactions, in files copied in afterwards (as a DR site receives them).
  Write(301, 601, /*per_file=*/100);
  CopyFiles();
  EXPECT_TRUE(testing::WaitFor([&] { return Same(); }, absl::Seconds(60))) << (*project)->StatusJson();
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT updates FROM ", db_, ".applied"))[0], "600");
  const auto status = testing::LinkStatusOf(**project);
  EXPECT_NE(status.stage(), "failed") << (*project)->StatusJson();
  (*project)->Stop();

  // A file missing in the middle: the link refuses to skip what it held.
  Write(601, 801, /*per_file=*/100);
  const auto all = CopyFiles();
  fs::remove(dir_ / "binlogs" / all[all.size() - 2]);
  auto gap = Project::Create(ConfigJson());
  ASSERT_TRUE(gap.ok()) << gap.status();
  ASSERT_TRUE((*gap)->Start().ok());
  EXPECT_TRUE(testing::WaitFor([&] { return testing::LinkStatusOf(**gap).stage() == "failed"; },
                               absl::Seconds(30)))
      << (*gap)->StatusJson();
  EXPECT_THAT((*gap)->StatusJson(), ::testing::HasSubstr("is missing"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT n FROM ", db_, ".counter"))[0], "600");  // nothing past it
  (*gap)->Stop();

  // Only a file that starts after the link's position is left: the ones between are missing.
  for (size_t i = 0; i + 1 < all.size(); ++i) fs::remove(dir_ / "binlogs" / all[i]);
  auto late = Project::Create(ConfigJson());
  ASSERT_TRUE(late.ok()) << late.status();
  ASSERT_TRUE((*late)->Start().ok());
  EXPECT_TRUE(testing::WaitFor([&] { return testing::LinkStatusOf(**late).stage() == "failed"; },
                               absl::Seconds(30)))
      << (*late)->StatusJson();
  EXPECT_THAT((*late)->StatusJson(), ::testing::HasSubstr("starts after"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT n FROM ", db_, ".counter"))[0], "600");
}

// A start given as a place in the files (SHOW MASTER STATUS, a backup's xtrabackup_binlog_info),
// in every dialect: what lies before it in its file is passed over, GTIDs or not.
TEST_P(BinlogFilesDialectTest, AStartAtAFilePlaceAppliesWhatFollowsItOnly) {
  Write(1, 101, /*per_file=*/0);
  // B holds the state after transaction 100 (A's rows, copied by value; no counted updates).
  Exec(b_.get(), absl::StrCat("DROP TRIGGER ", db_, ".count_updates; DELETE FROM ", db_, ".items"));
  for (const char* t : {"counter", "items"}) {
    for (const std::string& row : Rows(a_.get(), absl::StrCat("SELECT * FROM ", db_, ".", t))) {
      std::string values;
      for (absl::string_view v : absl::StrSplit(row, '|')) {
        absl::StrAppend(&values, values.empty() ? "" : ",", v == "NULL" ? "NULL" : absl::StrCat("'", v, "'"));
      }
      Exec(b_.get(), absl::StrCat("REPLACE INTO ", db_, ".", t, " VALUES (", values, ")"));
    }
  }
  Exec(b_.get(), absl::StrCat("CREATE TRIGGER ", db_, ".count_updates AFTER UPDATE ON ", db_, ".counter FOR EACH ROW "
                              "UPDATE ", db_, ".applied SET updates = updates + 1 WHERE k = 1"));
  ASSERT_TRUE(Same());
  // The place where A's binlog (as copied, in the test's dialect) ends now.
  const std::vector<std::string> copied = CopyFiles();
  const std::string last = copied.back();
  const std::string place = absl::StrCat(last, ":", fs::file_size(dir_ / "binlogs" / last));
  Write(101, 201, /*per_file=*/0);
  CopyFiles();
  testing::ConfigBuilder config(db_);
  config.EndpointA(absl::StrCat(R"({"binlog_dir": ")", (dir_ / "binlogs").string(), R"("})"))
      .Import(absl::StrCat(db_, ".counter|", db_, ".items"))
      .ForwardOptions(R"({"apply_workers": 8})")
      .Forward(absl::StrCat(R"({"start_gtid": ")", place, R"("})"));
  auto project = Project::Create(config.Json());
  ASSERT_TRUE(project.ok()) << project.status();
  ASSERT_TRUE((*project)->Start().ok());
  EXPECT_TRUE(testing::WaitFor([&] { return Same(); }, absl::Seconds(60))) << (*project)->StatusJson();
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT updates FROM ", db_, ".applied"))[0], "100")
      << "transactions before " << place << " were applied again, or ones after it lost";
  EXPECT_NE(testing::LinkStatusOf(**project).stage(), "failed") << (*project)->StatusJson();
}

// A DDL in the files, with rows on both sides of it and many after: each row lands in the columns
// its table had when it was written (files without column names decode by the link's schema
// history, since the reader runs ahead of the destination's copy of the DDL).
TEST_P(BinlogFilesDialectTest, RowsOnBothSidesOfADdlInTheFilesKeepTheirColumns) {
  for (SqlConnection* c : {a_.get(), b_.get()}) {
    Exec(c, absl::StrCat("SET SESSION sql_log_bin=0; CREATE TABLE ", db_, ".t (id INT PRIMARY KEY, a VARCHAR(10), b INT);"
                         "SET SESSION sql_log_bin=1"));
  }
  auto w = Connect(ServerPair::A(), db_);
  Exec(w.get(), "INSERT INTO t VALUES (1, 'a1', 10), (2, 'a2', 20)");
  for (int i = 10; i < 300; ++i) Exec(w.get(), absl::StrCat("INSERT INTO t VALUES (", i, ", 'x', ", i, ")"));
  Exec(w.get(), "ALTER TABLE t DROP COLUMN b, ADD COLUMN c INT");
  for (int i = 300; i < 600; ++i) Exec(w.get(), absl::StrCat("INSERT INTO t VALUES (", i, ", 'y', ", i, ")"));
  const std::string first = CurrentFile();
  Exec(w.get(), "FLUSH BINARY LOGS");
  Exec(w.get(), "UPDATE t SET c = 21 WHERE id = 2");
  Exec(w.get(), "ALTER TABLE t ADD COLUMN d VARCHAR(5) FIRST");
  for (int i = 600; i < 700; ++i) Exec(w.get(), absl::StrCat("INSERT INTO t VALUES ('d', ", i, ", 'z', ", i, ")"));
  testing::ConfigBuilder config(db_);
  config.EndpointA(absl::StrCat(R"({"binlog_dir": ")", (dir_ / "binlogs").string(), R"("})"))
      .Objects(absl::StrCat(R"({"rules": {"whitelist": [")", db_, R"(.t"]}})"))
      .Forward(R"({"ddl": true})");
  // The first file alone, then (in another process, as after a restart) the rest, which decodes
  // by what the history learned before.
  CopyFiles(first);
  auto project = Project::Create(config.Json());
  ASSERT_TRUE(project.ok()) << project.status();
  ASSERT_TRUE((*project)->Start().ok());
  EXPECT_TRUE(testing::WaitFor([&] {
    return Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t WHERE id = 599"))[0] == "1";
  }, absl::Seconds(60))) << (*project)->StatusJson();
  project->reset();
  CopyFiles();
  project = Project::Create(config.Json());
  ASSERT_TRUE(project.ok()) << project.status();
  ASSERT_TRUE((*project)->Start().ok());
  const std::string q = absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id");
  EXPECT_TRUE(testing::WaitFor([&] { return Rows(a_.get(), q) == Rows(b_.get(), q); }, absl::Seconds(60)))
      << (*project)->StatusJson();
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT d, a, c FROM ", db_, ".t WHERE id = 2"))[0], "NULL|a2|21");
}

// MySQL's binary JSON reaches MariaDB as JSON text with the same value: each row's document,
// written through the sink's literals, gives back the name and age MySQL itself derived from it
// (the table's generated columns, logged beside it).
TEST_F(BinlogFilesTest, MysqlJsonValuesRoundTripThroughMariadb) {
  auto file = BinlogFile::Open(std::string(DUOSYNC_TEST_DATA_DIR) + "/binlog/json.binlog.000001");
  ASSERT_TRUE(file.ok()) << file.status();
  TransactionAssembler::Options options;
  options.allow_partial_images = true;
  TransactionAssembler assembler(options);
  Exec(b_.get(), absl::StrCat("USE ", db_, "; CREATE TABLE j (n INT PRIMARY KEY AUTO_INCREMENT, doc JSON, "
                              "name VARCHAR(100), age INT)"));
  int rows = 0;
  while (true) {
    auto e = (*file)->Next();
    ASSERT_TRUE(e.ok()) << e.status();
    if (!e->has_value()) break;
    auto t = assembler.Add((*e)->bytes, (*e)->position);
    ASSERT_TRUE(t.ok()) << t.status();
    if (!t->has_value()) continue;
    for (const RowChange& c : (**t).changes) {
      if (c.after.empty() || c.after[1].kind != Value::Kind::kString || c.after[1].s.rfind("JSON_", 0) == 0) continue;
      std::string sql = absl::StrCat("INSERT INTO ", db_, ".j (doc, name, age) VALUES (");
      for (int col = 1; col <= 3; ++col) {
        AppendLiteral(c.after[col], c.table->columns[col], &sql);
        sql += col < 3 ? ", " : ")";
      }
      Exec(b_.get(), sql);
      ++rows;
    }
  }
  EXPECT_EQ(rows, 12);  // 6 inserts, 6 full-image updates
  EXPECT_THAT(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".j WHERE JSON_VALID(doc) AND "
                                          "JSON_VALUE(doc, '$.name') = name AND JSON_VALUE(doc, '$.age') = age")),
              ::testing::ElementsAre(std::to_string(rows)));
}

TEST_F(BinlogFilesTest, PrecheckSaysWhetherTheFilesCanBeApplied) {
  auto precheck = [&](bool* ok) {
    auto project = Project::Create(ConfigJson());
    EXPECT_TRUE(project.ok()) << project.status();
    return project.ok() ? (*project)->Precheck(ok) : std::string();
  };
  bool ok = true;
  std::string report = precheck(&ok);  // an empty directory
  EXPECT_FALSE(ok);
  EXPECT_THAT(report, ::testing::HasSubstr("no binlog file"));
  Write(1, 11, 0);
  CopyFiles();
  report = precheck(&ok);
  EXPECT_TRUE(ok) << report;
  EXPECT_THAT(report, ::testing::HasSubstr("binlog_files"));
  EXPECT_THAT(report, ::testing::HasSubstr("MariaDB GTIDs"));
  // Files a real MySQL 8 server wrote: the dialect and its kind of positions are said up front.
  fs::remove_all(dir_ / "binlogs");
  fs::create_directories(dir_ / "binlogs");
  fs::copy_file(fs::path(DUOSYNC_TEST_DATA_DIR) / "binlog" / "mysql-enum-string-set.000001",
                dir_ / "binlogs" / "mysql-bin.000001");
  report = precheck(&ok);
  EXPECT_TRUE(ok) << report;
  EXPECT_THAT(report, ::testing::HasSubstr("written by 8.0.28; positions are MySQL GTID sets"));
  fs::remove(dir_ / "binlogs" / "mysql-bin.000001");
  fs::copy_file(fs::path(DUOSYNC_TEST_DATA_DIR) / "binlog" / "json.binlog.000001", dir_ / "binlogs" / "mysql-bin.000001");
  report = precheck(&ok);
  EXPECT_TRUE(ok) << report;
  EXPECT_THAT(report, ::testing::HasSubstr("positions are file places"));
  // A file that is not a binlog at all.
  std::ofstream(dir_ / "binlogs" / "mysql-bin.000001", std::ios::trunc) << "not a binlog";
  report = precheck(&ok);
  EXPECT_FALSE(ok);
  EXPECT_THAT(report, ::testing::HasSubstr("mysql-bin.000001"));
}

}  // namespace
}  // namespace duosync
