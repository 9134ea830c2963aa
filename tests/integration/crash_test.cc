// Exactly-once across kill -9: a writer drives transactions into the source while the link process
// (`duosync run`) is killed with SIGKILL at random points and restarted.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "integration/cli_process.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Connect;
using testing::Exec;
using testing::Rows;
using testing::ServerPair;

// A fresh directory for a test's config, log and store ("" when none could be made).
std::string NewDirectory() {
  char dir_template[] = "/tmp/duosync-crash-XXXXXX";
  return mkdtemp(dir_template) != nullptr ? dir_template : "";
}

// Writes `config` as project.json in `dir`; its path.
std::string WriteConfig(const std::string& dir, const std::string& config) {
  const std::string path = dir + "/project.json";
  std::ofstream(path) << config;
  return path;
}

// Runs the crash scenario with `workers` apply workers, with or without a record store (whose
// torn tails the kills leave behind).
void KillNineAtRandomPoints(int workers, bool store = false) {
  auto a = Connect(ServerPair::A());
  auto b = Connect(ServerPair::B());
  const std::string db = absl::StrCat("crash", workers, store ? "s" : "");
  for (SqlConnection* c : {a.get(), b.get()}) {
    testing::ResetDatabase(c, db,
                           "CREATE TABLE counter (id INT PRIMARY KEY, n BIGINT NOT NULL);"
                           "CREATE TABLE items (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(64));"
                           "CREATE TABLE log (seq INT PRIMARY KEY, at DATETIME(6));"
                           "INSERT INTO counter VALUES (1, 0)");
  }
  // On the destination, count every applied counter update: a transaction applied twice shows
  // up here even though the row image alone would hide it.
  Exec(b.get(), absl::StrCat("USE ", db, "; CREATE TABLE applied (k INT PRIMARY KEY, updates BIGINT);"
                             "INSERT INTO applied VALUES (1, 0);"
                             "CREATE TRIGGER count_updates AFTER UPDATE ON counter FOR EACH ROW "
                             "UPDATE applied SET updates = updates + 1 WHERE k = 1"));

  const std::string dir = NewDirectory();
  ASSERT_FALSE(dir.empty());
  testing::ConfigBuilder config(db);
  config.Import(absl::StrCat(db, ".counter|", db, ".items|", db, ".log"))
      .ForwardOptions(absl::StrCat(R"({"apply_workers": )", workers, "}"));
  if (store) config.RecordStores(dir + "/data").ForwardOptions(R"({"store_segment_mb": 1})");
  const std::string config_path = WriteConfig(dir, config.Json());
  const std::string log_path = dir + "/link.log";
  pid_t link = testing::StartCliRun(config_path, log_path);
  // The first start records its position before it follows the binlog; give it that moment so
  // the writer's first transactions come after the recorded start.
  auto recorded = [&] {
    auto rows = b->Query(absl::StrCat("SELECT 1 FROM duosync.checkpoint WHERE link_id='", db, "/forward'"));
    return rows.ok() && !rows->empty();
  };
  testing::WaitFor(recorded, absl::Seconds(10));
  ASSERT_TRUE(recorded()) << "the link did not record its start";

  // The writer goes on until it has written kMinTransactions and seen at least kKillsWhileWriting
  // kills, so the kills always land in live traffic, however fast this machine is.
  constexpr int kMinTransactions = 6000, kKillsWhileWriting = 4;
  std::atomic<bool> writer_done{false};
  std::atomic<int> kills{0};
  int written = 0;
  std::thread writer([&] {
    auto w = Connect(ServerPair::A(), db);
    std::mt19937 rng(42);
    for (int i = 1; i <= kMinTransactions || kills < kKillsWhileWriting; ++i) {
      written = i;
      const int target = 1 + rng() % i;
      std::string sql = absl::StrCat(
          "BEGIN; UPDATE counter SET n = n + 1 WHERE id = 1; INSERT INTO log VALUES (", i,
          ", NOW(6)); INSERT INTO items VALUES (", i, ", 0, 'item ", i, "');"
          "UPDATE items SET v = v + 1, note = CONCAT('touched by ", i, "') WHERE id = ", target, ";");
      if (i % 7 == 0) absl::StrAppend(&sql, "DELETE FROM items WHERE id = ", i - 3, ";");
      sql += "COMMIT";
      Exec(w.get(), sql);
    }
    writer_done = true;
  });

  std::mt19937 rng(7);
  int kills_while_writing = 0;
  while (!writer_done || kills < 8) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 400));
    kills_while_writing += writer_done ? 0 : 1;
    kill(link, SIGKILL);
    waitpid(link, nullptr, 0);
    ++kills;
    link = testing::StartCliRun(config_path, log_path);
    if (kills >= 40) break;
  }
  writer.join();

  // Let the last link process catch up, then compare every row.
  const std::vector<std::string> tables = {"counter", "items", "log"};
  bool same = false;
  for (int i = 0; i < 1200 && !same; ++i) {
    same = true;
    for (const auto& t : tables) {
      const std::string q = absl::StrCat("SELECT * FROM ", db, ".", t, " ORDER BY 1");
      same = same && Rows(a.get(), q) == Rows(b.get(), q);
    }
    if (!same) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(link, SIGTERM);
  int status = 0;
  waitpid(link, &status, 0);
  std::ifstream log(log_path);
  std::string log_text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(same) << "source and destination differ after " << kills << " kills; link log:\n"
                    << log_text.substr(log_text.size() > 4000 ? log_text.size() - 4000 : 0);
  EXPECT_GE(kills, 8);
  EXPECT_GE(kills_while_writing, kKillsWhileWriting);
  const int kTransactions = written;
  EXPECT_EQ(Rows(b.get(), absl::StrCat("SELECT n FROM ", db, ".counter"))[0],
            std::to_string(kTransactions));
  EXPECT_EQ(Rows(b.get(), absl::StrCat("SELECT updates FROM ", db, ".applied"))[0],
            std::to_string(kTransactions))
      << "some transaction was applied more than once (or lost)";
  EXPECT_EQ(Rows(b.get(), absl::StrCat("SELECT COUNT(*) FROM ", db, ".log"))[0],
            std::to_string(kTransactions));
  EXPECT_EQ(log_text.find("failed:"), std::string::npos) << log_text;
  std::system(absl::StrCat("rm -rf ", dir).c_str());
}

// A full copy in pieces (one table cut by key range across threads, so the pieces' chunks commit
// side by side) killed with SIGKILL again and again while a writer updates rows: each piece goes
// on from its own last chunk (the rows the pieces count add up to the table's rows exactly: no
// chunk was copied twice), the saved cut is kept though the table's key range changed, and the
// copy hands over with both sides equal.
TEST(CrashTest, KillNineDuringAFullCopyInPiecesRedoesNoChunk) {
  auto a = Connect(ServerPair::A());
  auto b = Connect(ServerPair::B());
  const std::string db = "crash_pieces";
  constexpr int kRows = 160000;  // three pieces for four threads
  testing::ResetDatabase(a.get(), db,
                         absl::StrCat("CREATE TABLE big (id BIGINT PRIMARY KEY, u INT NOT NULL, note VARCHAR(64),"
                                      " n INT NOT NULL DEFAULT 0, KEY by_u (u));"
                                      "INSERT INTO big (id, u, note) SELECT seq, seq, CONCAT('row', CHAR(9), seq, '\\\\')"
                                      " FROM seq_1_to_", kRows));
  Exec(b.get(), absl::StrCat("DROP DATABASE IF EXISTS ", db));
  const std::string dir = NewDirectory();
  ASSERT_FALSE(dir.empty());
  testing::ConfigBuilder config(db);
  config.MigrationTypes({config::SCHEMA, config::FULL, config::INCREMENTAL})
      .Import(db + ".big")
      .ForwardOptions(R"({"full_concurrency": "NORMAL"})");
  const std::string config_path = WriteConfig(dir, config.Json());
  const std::string log_path = dir + "/link.log";
  const std::string progress = absl::StrCat("SELECT table_name, last_key, rows_copied, done FROM duosync.full_progress"
                                            " WHERE link_id='", db, "/forward' ORDER BY table_name");
  // Rows the pieces copied so far, and whether the table is done.
  auto copied = [&] {
    auto rows = b->Query(absl::StrCat("SELECT COALESCE(SUM(IF(table_name LIKE '%$$%', rows_copied, 0)), 0),"
                                      " COALESCE(MAX(IF(table_name = '", db, ".big', done, 0)), 0) FROM "
                                      "duosync.full_progress WHERE link_id='", db, "/forward'"));
    return rows.ok() && !rows->empty() ? std::make_pair(std::stoll(rows->at(0)[0].value_or("0")),
                                                        rows->at(0)[1].value_or("0") == "1")
                                       : std::make_pair(0LL, false);
  };
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    auto w = Connect(ServerPair::A(), db);
    std::mt19937 rng(11);
    while (!stop) Exec(w.get(), absl::StrCat("UPDATE big SET n = n + 1 WHERE id = ", 1 + rng() % kRows));
  });
  pid_t link = testing::StartCliRun(config_path, log_path);
  // Once the first piece is under way, a row lands below it (the table's least key changes: a cut
  // made again would differ): only the handoff brings it, no piece copies it.
  ASSERT_TRUE(testing::WaitFor([&] {
    auto first = b->Query(absl::StrCat("SELECT rows_copied FROM duosync.full_progress WHERE link_id='", db,
                                       "/forward' AND table_name='", db, ".big$$1'"));
    return first.ok() && !first->empty() && first->at(0)[0].value_or("0") != "0";
  }, absl::Seconds(60)));
  Exec(a.get(), absl::StrCat("INSERT INTO ", db, ".big (id, u, note) VALUES (0, 0, 'below the first piece')"));
  std::string saved_cut;
  int kills = 0;
  std::mt19937 rng(5);
  for (long long last = 0; kills < 6;) {
    // Kill once more chunks are in, at a random moment of the next ones.
    if (!testing::WaitFor([&] { return copied().first > last; }, absl::Seconds(60))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));
    const auto now = copied();
    if (now.first >= kRows - 10000) break;  // too near the end to be worth a kill
    kill(link, SIGKILL);
    waitpid(link, nullptr, 0);
    ++kills;
    const auto rows = Rows(b.get(), progress);
    ASSERT_FALSE(rows.empty());
    const std::vector<std::string> table_row = absl::StrSplit(rows[0], '|');  // the table's own row sorts first
    if (saved_cut.empty()) saved_cut = table_row[1];
    EXPECT_EQ(table_row[1], saved_cut) << "the cut changed across a restart";
    last = copied().first;
    link = testing::StartCliRun(config_path, log_path);
  }
  EXPECT_GE(kills, 3) << "the copy ended before the kills";
  const std::string q = absl::StrCat("SELECT COUNT(*), SUM(n), MD5(GROUP_CONCAT(id, u, note, n ORDER BY id)) FROM ",
                                     db, ".big");
  // The handoff: updates made during the copy arrive once it ends.
  testing::WaitFor([&] { return copied().second; }, absl::Seconds(120));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  writer.join();
  testing::ExpectSameEventually(a.get(), b.get(), {q}, 120);
  kill(link, SIGTERM);
  waitpid(link, nullptr, 0);
  const auto rows = Rows(b.get(), progress);
  ASSERT_GE(rows.size(), 3u) << "the table was not cut into pieces";
  EXPECT_NE(rows[0].find("$$pieces:"), std::string::npos) << rows[0];
  EXPECT_EQ(rows[0].substr(rows[0].rfind('|') + 1), "1") << "the table is not marked done";
  long long sum = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].substr(rows[i].rfind('|') + 1), "1") << rows[i];
    const std::vector<std::string> fields = absl::StrSplit(rows[i], '|');
    sum += std::stoll(fields[2]);
  }
  EXPECT_EQ(sum, kRows) << "rows copied by the pieces (more: a piece went on from before its last chunk)";
  std::ifstream log(log_path);
  std::string log_text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_EQ(log_text.find("failed:"), std::string::npos) << log_text;
  std::system(absl::StrCat("rm -rf ", dir).c_str());
}

TEST(CrashTest, KillNineLosesAndDoublesNothingWithOneWorker) { KillNineAtRandomPoints(1); }

TEST(CrashTest, KillNineLosesAndDoublesNothingWithSixteenWorkers) { KillNineAtRandomPoints(16); }

TEST(CrashTest, KillNineLosesAndDoublesNothingWithTheRecordStore) {
  KillNineAtRandomPoints(16, /*store=*/true);
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

// Two-way traffic in an active-active project while the process running both links is killed
// with SIGKILL at random points and restarted: each region counts its own transactions (never
// doubled, never lost) and both fight over a few hot rows (conflicts decided by the policy).
class TwoWayCrashTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TwoWayCrashTest, KillNineDuringTwoWayTrafficOnHotRowsLosesDoublesAndDriftsNothing) {
  auto a = Connect(ServerPair::A());
  auto b = Connect(ServerPair::B());
  const std::string db = GetParam() == "LAST_WRITER_WINS" ? "crash_aa_lww" : "crash_aa_priority";
  for (SqlConnection* c : {a.get(), b.get()}) {
    testing::ResetDatabase(c, db,
                           "CREATE TABLE counter (region CHAR(1) PRIMARY KEY, n BIGINT NOT NULL);"
                           "CREATE TABLE log (seq INT PRIMARY KEY, region CHAR(1), at DATETIME(6));"
                           "CREATE TABLE hot (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL, ver BIGINT NOT NULL);"
                           "INSERT INTO counter VALUES ('A', 0), ('B', 0);"
                           "INSERT INTO hot VALUES (1, 'base', 0), (2, 'base', 0), (3, 'base', 0)");
  }
  const std::string conflicts = GetParam() == "LAST_WRITER_WINS"
                                    ? R"({"conflicts": {"policy": "LAST_WRITER_WINS", "column": "ver"}})"
                                    : R"({"conflicts": {"policy": "REGION_PRIORITY"}})";
  char dir_template[] = "/tmp/duosync-crash-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string config_path = dir + "/project.json";
  {
    std::ofstream out(config_path);
    out << testing::ConfigBuilder(db)
               .Whitelist(db + ".*")
               .ActiveActive(conflicts)
               .ForwardOptions(R"({"apply_workers": 8})")
               .ReverseOptions(R"({"apply_workers": 8})")
               .Json();
  }
  const std::string log_path = dir + "/link.log";
  pid_t link = testing::StartCliRun(config_path, log_path);
  auto recorded = [&](SqlConnection* c, const char* which) {
    auto rows = c->Query(absl::StrCat("SELECT 1 FROM duosync.checkpoint WHERE link_id='", db, "/", which, "'"));
    return rows.ok() && !rows->empty();
  };
  testing::WaitFor([&] { return recorded(b.get(), "forward") && recorded(a.get(), "reverse"); },
                   absl::Seconds(10));
  ASSERT_TRUE(recorded(b.get(), "forward") && recorded(a.get(), "reverse"));

  constexpr int kMinPerRegion = 3000, kKillsWhileWriting = 4;
  std::atomic<int> writers_done{0};
  std::atomic<int> kills{0};
  int written[2] = {0, 0};
  auto write = [&](const harness::MariaDbServer& server, const std::string& region, int base) {
    auto w = Connect(server, db);
    std::mt19937 rng(base + 1);
    const int parity = region == "A" ? 0 : 1;  // versions never tie across regions
    for (int i = 1; i <= kMinPerRegion || kills < kKillsWhileWriting; ++i) {
      written[parity] = i;
      std::string sql = absl::StrCat("BEGIN; UPDATE counter SET n = n + 1 WHERE region = '", region,
                                     "'; INSERT INTO log VALUES (", base + i, ", '", region, "', NOW(6));");
      if (i % 4 == 0) {
        const int64_t ver = 2 * i + parity;
        absl::StrAppend(&sql, "UPDATE hot SET v = '", region, " #", i, "', ver = ", ver, " WHERE id = ",
                        1 + rng() % 3, " AND ver < ", ver, ";");
      }
      Exec(w.get(), sql + "COMMIT");
    }
    ++writers_done;
  };
  std::thread wa([&] { write(ServerPair::A(), "A", 0); });
  std::thread wb([&] { write(ServerPair::B(), "B", 1000000); });
  std::mt19937 rng(11);
  int kills_while_writing = 0;
  while (writers_done < 2 || kills < 8) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 400));
    kills_while_writing += writers_done < 2 ? 1 : 0;
    kill(link, SIGKILL);
    waitpid(link, nullptr, 0);
    ++kills;
    link = testing::StartCliRun(config_path, log_path);
    if (kills >= 40) break;
  }
  wa.join();
  wb.join();
  bool same = false;
  for (int i = 0; i < 1200 && !same; ++i) {
    same = true;
    for (const char* t : {"counter", "log", "hot"}) {
      const std::string q = absl::StrCat("SELECT * FROM ", db, ".", t, " ORDER BY 1");
      same = same && Rows(a.get(), q) == Rows(b.get(), q);
    }
    if (!same) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(link, SIGTERM);
  waitpid(link, nullptr, 0);
  std::ifstream log(log_path);
  std::string log_text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(same) << "the regions differ after " << kills << " kills; log:\n"
                    << log_text.substr(log_text.size() > 4000 ? log_text.size() - 4000 : 0);
  EXPECT_GE(kills_while_writing, kKillsWhileWriting);
  EXPECT_EQ(Rows(b.get(), absl::StrCat("SELECT n FROM ", db, ".counter ORDER BY region")),
            (std::vector<std::string>{std::to_string(written[0]), std::to_string(written[1])}));
  EXPECT_EQ(Rows(a.get(), absl::StrCat("SELECT COUNT(*) FROM ", db, ".log"))[0],
            std::to_string(written[0] + written[1]));
  EXPECT_EQ(log_text.find("failed:"), std::string::npos) << log_text;
  std::system(absl::StrCat("rm -rf ", dir).c_str());
}

INSTANTIATE_TEST_SUITE_P(Policies, TwoWayCrashTest, ::testing::Values("LAST_WRITER_WINS", "REGION_PRIORITY"));

}  // namespace
}  // namespace duosync
