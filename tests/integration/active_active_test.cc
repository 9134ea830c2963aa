// Active-active projects: both regions written at once, every change reaches the other side once,
// nothing echoes back — with either loop-prevention mode.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "apply/conflict_log.h"
#include "duosync/project.h"
#include "duosync/report.pb.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Connect;
using testing::Exec;
using testing::Rows;
using testing::ServerPair;
using testing::StatusOf;

class ActiveActiveTest : public testing::TwoServerTest, public ::testing::WithParamInterface<std::string> {
 protected:
  ActiveActiveTest() : TwoServerTest("aa_") {}
  std::string DatabaseName() const override { return absl::StrCat("aa_", GetParam()); }
  Side SideA() const override { return Tables(); }
  Side SideB() const override { return Tables(); }
  static Side Tables() {
    return Side::WithSql("CREATE TABLE counters (region CHAR(1) PRIMARY KEY, n BIGINT NOT NULL);"
                         "CREATE TABLE orders (id INT PRIMARY KEY, region CHAR(1) NOT NULL,"
                         "  amount INT NOT NULL, note VARCHAR(40));"
                         "INSERT INTO counters VALUES ('A', 0), ('B', 0)");
  }

  // A project named db_ + `suffix`; with `data_dir`, both links keep a record store there.
  std::string ActiveActiveConfig(const std::string& suffix, const std::string& data_dir = "") {
    // A project of its own name per test: a name reused would resume from the checkpoints the
    // earlier test left, and replay this test's setup writes on both sides.
    testing::ConfigBuilder config(db_ + suffix);
    config.Whitelist(db_ + ".*").ActiveActive(absl::StrCat(R"({"loop_prevention": ")", GetParam(), R"("})"));
    if (!data_dir.empty()) config.RecordStores(data_dir);
    return config.Json();
  }

  // Writes transactions `first`..`first`+`n`-1 in region `region` on keys it owns.
  static void Write(const harness::MariaDbServer& server, const std::string& db, char region, int n,
                    int first = 1) {
    auto c = Connect(server, db);
    std::mt19937 rng(region + first);
    const int base = region == 'A' ? 0 : 1000000;
    for (int i = first; i < first + n; ++i) {
      std::string sql = absl::StrCat("BEGIN; UPDATE counters SET n = n + 1 WHERE region = '", std::string(1, region),
                                     "'; INSERT INTO orders VALUES (", base + i, ", '", std::string(1, region), "', ",
                                     rng() % 1000, ", 'new');");
      if (i > 10 && i % 3 == 0) {
        absl::StrAppend(&sql, "UPDATE orders SET amount = amount + 1, note = 'paid' WHERE id = ",
                        base + 1 + rng() % (i - 1), ";");
      }
      if (i > 10 && i % 5 == 0) absl::StrAppend(&sql, "DELETE FROM orders WHERE id = ", base + i - 7, ";");
      sql += "COMMIT";
      Exec(c.get(), sql);
    }
  }

  void ExpectIdentical() {
    testing::ExpectSameEventually(a_.get(), b_.get(),
                                  {absl::StrCat("SELECT * FROM ", db_, ".counters ORDER BY region"),
                                   absl::StrCat("SELECT * FROM ", db_, ".orders ORDER BY id")});
  }

  void RunDisjointWrites(const std::string& config);
};

TEST_P(ActiveActiveTest, ConcurrentDisjointWritesReachTheOtherSideOnceAndNeverEcho) {
  RunDisjointWrites(ActiveActiveConfig(""));
}

TEST_P(ActiveActiveTest, WithRecordStoresOnBothLinksWritesArriveOnceAndNeverEcho) {
  char tmpl[] = "/tmp/duosync-aa-store-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  RunDisjointWrites(ActiveActiveConfig("_store", tmpl));
  const report::ProjectStatus status = StatusOf(*project_);
  for (const auto& link : status.links()) {
    EXPECT_GT(link.store().transactions(), 0u) << link.name();
  }
  (void)project_->Stop();
  std::filesystem::remove_all(tmpl);
}

void ActiveActiveTest::RunDisjointWrites(const std::string& config) {
  StartProject(config);
  constexpr int kPerRegion = 1500;
  std::thread wa([&] { Write(ServerPair::A(), db_, 'A', kPerRegion); });
  std::thread wb([&] { Write(ServerPair::B(), db_, 'B', kPerRegion); });
  wa.join();
  wb.join();
  ExpectIdentical();
  EXPECT_EQ(Rows(a_.get(), absl::StrCat("SELECT n FROM ", db_, ".counters ORDER BY region")),
            (std::vector<std::string>{std::to_string(kPerRegion), std::to_string(kPerRegion)}));
  // Let the echoes of the last transactions pass through the readers too.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const auto status = StatusOf(*project_);
  ASSERT_EQ(status.links_size(), 2);
  for (const auto& link : status.links()) {
    EXPECT_EQ(link.stage(), "incremental") << link.last_error();
    // Each link applied exactly the other region's transactions: an echo would add more.
    EXPECT_EQ(link.transactions_applied(), static_cast<uint64_t>(kPerRegion)) << link.name();
    // The other link's destination transactions (several source transactions each) came back
    // through this link's reader and were dropped.
    EXPECT_GT(link.echoes_dropped(), 0u) << link.name();
  }
}

// The full copy's writes on B are B's binlog's too: the reverse link must drop them as the forward
// link's (by origin, or by the progress row every chunk carries), never apply them back to A as
// B's changes (which would carry stale copies over A's newer rows).
TEST_P(ActiveActiveTest, AFullMigrationIsNeverEchoedBack) {
  Exec(a_.get(), absl::StrCat("CREATE TABLE ", db_, ".big (id INT PRIMARY KEY, v INT NOT NULL);"
                              "INSERT INTO ", db_, ".big SELECT seq, seq FROM seq_1_to_5000"));
  testing::ConfigBuilder config(db_ + "_full");
  config.Import(db_ + ".big")
      .MigrationTypes({config::SCHEMA, config::FULL, config::INCREMENTAL})
      .ForwardOptions(R"({"full_concurrency": "SMOOTH"})")
      .ActiveActive(absl::StrCat(R"({"loop_prevention": ")", GetParam(), R"("})"));
  StartProject(config.Json());
  ASSERT_TRUE(testing::WaitFor([&] { return testing::LinkStatusOf(*project_).stage() == "incremental"; },
                               absl::Seconds(60)))
      << project_->StatusJson();
  // B's own change still reaches A, after the copy's transactions in B's binlog.
  Exec(b_.get(), absl::StrCat("UPDATE ", db_, ".big SET v = -1 WHERE id = 4999"));
  testing::ExpectSameEventually(a_.get(), b_.get(), {absl::StrCat("SELECT * FROM ", db_, ".big ORDER BY id")});
  EXPECT_EQ(Rows(a_.get(), absl::StrCat("SELECT v FROM ", db_, ".big WHERE id = 4999"))[0], "-1");
  const report::LinkStatus reverse = testing::LinkStatusOf(*project_, "reverse");
  EXPECT_EQ(reverse.transactions_applied(), 1u) << "only B's own update: " << project_->StatusJson();
  EXPECT_GE(reverse.echoes_dropped(), 5u) << "the copy's chunks of 1000 rows";
  EXPECT_EQ(reverse.conflicts(), 0u);
}

// Once both regions' writers stop, neither binlog grows: a link's checkpoint write reaches the
// other link's reader as bookkeeping, which must not be answered with a checkpoint write of its
// own. A restart still resumes exactly, even after the old binlog files were purged.
TEST_P(ActiveActiveTest, AnIdleProjectWritesNothingAndStillResumesExactly) {
  StartProject(ActiveActiveConfig("_idle"));
  Write(ServerPair::A(), db_, 'A', 30);
  Write(ServerPair::B(), db_, 'B', 30);
  ExpectIdentical();
  const std::string pos = "SELECT @@gtid_binlog_pos";
  // Settled: both positions unchanged for 2 s (the last watermarks and their echoes pass).
  std::vector<std::string> last = {Rows(a_.get(), pos)[0], Rows(b_.get(), pos)[0]};
  absl::Time stable_since = absl::Now();
  testing::WaitFor([&] {
    std::vector<std::string> now = {Rows(a_.get(), pos)[0], Rows(b_.get(), pos)[0]};
    if (now != last) {
      last = now;
      stable_since = absl::Now();
    }
    return absl::Now() - stable_since >= absl::Seconds(2);
  }, absl::Seconds(20), absl::Milliseconds(100));
  absl::SleepFor(absl::Seconds(10));
  EXPECT_EQ(Rows(a_.get(), pos)[0], last[0]) << "region A's binlog grew while the project was idle";
  EXPECT_EQ(Rows(b_.get(), pos)[0], last[1]) << "region B's binlog grew while the project was idle";

  // The binlogs move on and the old files are purged (a weekend of idleness and log expiry): the
  // checkpoints left the old files when the readers saw them rotate, so the restart finds them.
  std::vector<std::string> files;
  for (SqlConnection* c : {a_.get(), b_.get()}) {
    Exec(c, "FLUSH BINARY LOGS");
    files.push_back(Rows(c, "SHOW MASTER STATUS")[0].substr(0, Rows(c, "SHOW MASTER STATUS")[0].find('|')));
  }
  absl::SleepFor(absl::Seconds(2));
  Exec(a_.get(), absl::StrCat("PURGE BINARY LOGS TO '", files[0], "'"));
  Exec(b_.get(), absl::StrCat("PURGE BINARY LOGS TO '", files[1], "'"));
  RestartProject();
  Write(ServerPair::A(), db_, 'A', 20, /*first=*/31);
  Write(ServerPair::B(), db_, 'B', 20, /*first=*/31);
  ExpectIdentical();
  const report::ProjectStatus status = testing::StatusOf(*project_);
  for (const auto& link : status.links()) EXPECT_EQ(link.stage(), "incremental") << link.last_error();
}

INSTANTIATE_TEST_SUITE_P(LoopPrevention, ActiveActiveTest,
                         ::testing::Values("SESSION_ORIGIN", "MARKER_TABLE"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

// Conflict policies on rows written in both regions while the links were down.
class ConflictPolicyTest : public testing::TwoServerTest {
 protected:
  ConflictPolicyTest() : TwoServerTest("cp_") {}
  Side SideA() const override { return Hot(); }
  Side SideB() const override { return Hot(); }
  static Side Hot() {
    return Side::WithSql("CREATE TABLE hot (id INT PRIMARY KEY, v VARCHAR(20), ver BIGINT NOT NULL);"
                         "INSERT INTO hot VALUES (1, 'base', 0), (2, 'base', 0), (3, 'base', 0)");
  }

  void Start(const std::string& conflicts) {
    StartProject(
        Config().Whitelist(db_ + ".*").ActiveActive(absl::StrCat(R"({"conflicts": )", conflicts, "}")).Json());
  }

  // Both regions change row 1 while the links are down, then the links start.
  void ConflictOnRowOne(const std::string& conflicts) {
    Start(conflicts);
    ASSERT_TRUE(project_->Stop().ok());
    Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".hot SET v = 'from A', ver = 5 WHERE id = 1"));
    Exec(b_.get(), absl::StrCat("UPDATE ", db_, ".hot SET v = 'from B', ver = 7 WHERE id = 1"));
    Start(conflicts);
  }

  std::string Row(SqlConnection* c, int id) {
    return Rows(c, absl::StrCat("SELECT v, ver FROM ", db_, ".hot WHERE id = ", id))[0];
  }

  void WaitForConflicts(uint64_t n) {
    auto total = [this] {
      const auto s = testing::StatusOf(*project_);
      uint64_t t = 0;
      for (const auto& l : s.links()) t += l.conflicts();
      return t;
    };
    if (!testing::WaitFor([&] { return total() >= n; }, absl::Seconds(10))) {
      ADD_FAILURE() << "expected " << n << " conflicts: " << project_->StatusJson();
    }
  }
};

TEST_F(ConflictPolicyTest, OverwriteIsRefusedRegionPriorityGivesBothTheSameRow) {
  // OVERWRITE would have each region take the other's row: refused before anything runs.
  auto refused = Project::Create(
      Config().Whitelist(db_ + ".*").ActiveActive(R"({"conflicts": {"policy": "OVERWRITE"}})").Json());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(std::string(refused.status().message()).find("swap rows"), std::string::npos) << refused.status();

  ConflictOnRowOne(R"({"policy": "REGION_PRIORITY"})");
  WaitForConflicts(2);
  testing::WaitFor([&] { return Row(b_.get(), 1) == "from A|5"; }, absl::Seconds(5));
  EXPECT_EQ(Row(a_.get(), 1), "from A|5");
  EXPECT_EQ(Row(b_.get(), 1), "from A|5");
  const std::string log = project_->ConflictsJson();
  EXPECT_NE(log.find("\"outcome\":\"applied the incoming change\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"outcome\":\"kept the destination's row\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"key\":\"id=1\""), std::string::npos) << log;
  EXPECT_NE(log.find("v='from A'"), std::string::npos) << log;
}

TEST_F(ConflictPolicyTest, IgnoreKeepsEachDestinationsRow) {
  ConflictOnRowOne(R"({"policy": "IGNORE"})");
  WaitForConflicts(2);
  EXPECT_EQ(Row(a_.get(), 1), "from A|5");
  EXPECT_EQ(Row(b_.get(), 1), "from B|7");
  EXPECT_NE(project_->ConflictsJson().find("kept the destination's row"), std::string::npos);
}

TEST_F(ConflictPolicyTest, LastWriterWinsConvergesOnBothSides) {
  ConflictOnRowOne(R"({"policy": "LAST_WRITER_WINS", "column": "ver"})");
  WaitForConflicts(2);
  testing::WaitFor([&] { return Row(a_.get(), 1) == "from B|7"; }, absl::Seconds(5));
  EXPECT_EQ(Row(a_.get(), 1), "from B|7");
  EXPECT_EQ(Row(b_.get(), 1), "from B|7");
}

TEST_F(ConflictPolicyTest, LastWriterWinsBreaksTiesTowardRegionA) {
  Start(R"({"policy": "LAST_WRITER_WINS", "column": "ver"})");
  ASSERT_TRUE(project_->Stop().ok());
  Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".hot SET v = 'tie A', ver = 9 WHERE id = 2"));
  Exec(b_.get(), absl::StrCat("UPDATE ", db_, ".hot SET v = 'tie B', ver = 9 WHERE id = 2"));
  Start(R"({"policy": "LAST_WRITER_WINS", "column": "ver"})");
  WaitForConflicts(2);
  testing::WaitFor([&] { return Row(b_.get(), 2) == "tie A|9"; }, absl::Seconds(5));
  EXPECT_EQ(Row(a_.get(), 2), "tie A|9");
  EXPECT_EQ(Row(b_.get(), 2), "tie A|9");
}

TEST_F(ConflictPolicyTest, StopHaltsBeforeTheConflictNamingTheKey) {
  Start(R"({"policy": "STOP"})");
  ASSERT_TRUE(project_->Stop().ok());
  Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".hot SET v = 'from A', ver = 5 WHERE id = 1"));
  Exec(b_.get(), absl::StrCat("UPDATE ", db_, ".hot SET v = 'from B', ver = 7 WHERE id = 1"));
  Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".hot SET v = 'after', ver = 8 WHERE id = 3"));
  // Many later transactions on other rows: more than one batch, which parallel workers would
  // commit while the conflict is found.
  for (int id = 100; id < 400; ++id) {
    Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".hot VALUES (", id, ", 'later', 0)"));
  }
  Start(R"({"policy": "STOP"})");
  absl::Status s = project_->Wait(absl::Seconds(30));
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(absl::IsDeadlineExceeded(s));
  EXPECT_NE(std::string(s.message()).find("id=1"), std::string::npos) << s;
  EXPECT_NE(std::string(s.message()).find("STOP"), std::string::npos) << s;
  EXPECT_EQ(Row(b_.get(), 1), "from B|7");
  EXPECT_EQ(Row(b_.get(), 3), "base|0") << "nothing after the conflict may be applied";
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".hot WHERE id >= 100"))[0], "0");
}

TEST_F(ConflictPolicyTest, LastWriterWinsComparesVersionsExactly) {
  for (SqlConnection* c : {a_.get(), b_.get()}) {
    Exec(c, absl::StrCat("ALTER TABLE ", db_, ".hot ADD COLUMN dver DOUBLE NOT NULL DEFAULT 0"));
  }
  Start(R"({"policy": "LAST_WRITER_WINS", "column": "dver"})");
  ASSERT_TRUE(project_->Stop().ok());
  // Equal in six significant digits, different in full precision: B's is later.
  Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".hot SET v = 'A', dver = 1700000000.5 WHERE id = 3"));
  Exec(b_.get(), absl::StrCat("UPDATE ", db_, ".hot SET v = 'B', dver = 1700000001.0 WHERE id = 3"));
  Start(R"({"policy": "LAST_WRITER_WINS", "column": "dver"})");
  WaitForConflicts(2);
  const std::string q = absl::StrCat("SELECT v FROM ", db_, ".hot WHERE id = 3");
  testing::WaitFor([&] { return Rows(a_.get(), q)[0] == "B"; }, absl::Seconds(5));
  EXPECT_EQ(Rows(a_.get(), q)[0], "B");
  EXPECT_EQ(Rows(b_.get(), q)[0], "B");
}

// A replay in an active-active project goes through the conflict policy: the forward link's old
// changes come back, but a newer write of region B to the same row stays.
TEST_F(ConflictPolicyTest, AReplayDoesNotOverwriteTheOtherRegionsNewerWrites) {
  char dir[] = "/tmp/duosync-aa-replay-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string config = Config()
                                 .Whitelist(db_ + ".*")
                                 .ActiveActive(R"({"conflicts": {"policy": "LAST_WRITER_WINS", "column": "ver"}})")
                                 .RecordStores(dir)
                                 .Json();
  StartProject(config);
  const std::string position = Rows(a_.get(), "SELECT @@gtid_binlog_pos")[0];
  Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".hot SET v = 'A', ver = 5 WHERE id IN (1, 2, 3)"));
  testing::WaitFor([&] { return Row(b_.get(), 3) == "A|5"; }, absl::Seconds(10));
  // B writes row 1 later (a newer version, which reaches A); an operator deletes row 2 on B alone.
  Exec(b_.get(), absl::StrCat("UPDATE ", db_, ".hot SET v = 'B newer', ver = 6 WHERE id = 1"));
  Exec(b_.get(), absl::StrCat("SET sql_log_bin=0; DELETE FROM ", db_, ".hot WHERE id = 2; SET sql_log_bin=1"));
  testing::WaitFor([&] { return Row(a_.get(), 1) == "B newer|6"; }, absl::Seconds(10));

  auto rewound = project_->Replay("forward", position);
  ASSERT_TRUE(rewound.ok()) << rewound.status();
  // Row 2 comes back; row 1's replayed version (5) loses to B's newer one (6); row 3 is as it was.
  const std::string q = absl::StrCat("SELECT * FROM ", db_, ".hot ORDER BY id");
  testing::ExpectSameEventually(a_.get(), b_.get(), {q});
  EXPECT_EQ(Row(b_.get(), 1), "B newer|6");
  EXPECT_EQ(Row(b_.get(), 2), "A|5");
  EXPECT_EQ(Row(b_.get(), 3), "A|5");
  // Under REGION_PRIORITY the priority region's replay would win over later writes: refused.
  (void)project_->Stop();
  project_.reset();
  auto priority = Project::Create(Config()
                                      .Whitelist(db_ + ".*")
                                      .ActiveActive(R"({"conflicts": {"policy": "REGION_PRIORITY"}})")
                                      .RecordStores(dir)
                                      .Json());
  ASSERT_TRUE(priority.ok()) << priority.status();
  EXPECT_THAT((*priority)->Replay("forward", position).status(),
              testing::StatusIs(absl::StatusCode::kFailedPrecondition, "LAST_WRITER_WINS"));
  std::filesystem::remove_all(dir);
}

// Both regions hammer the same rows at once; versions are unique across regions.
TEST_F(ConflictPolicyTest, HotRowsUnderLastWriterWinsConverge) {
  Start(R"({"policy": "LAST_WRITER_WINS", "column": "ver"})");
  auto write = [this](const harness::MariaDbServer& server, int region) {
    auto c = Connect(server, db_);
    std::mt19937 rng(region);
    for (int i = 1; i <= 400; ++i) {
      const int64_t ver = i * 2 + region;  // A even, B odd: never equal
      Exec(c.get(), absl::StrCat("UPDATE hot SET v = 'r", region, " #", i, "', ver = ", ver,
                                 " WHERE id = ", 1 + rng() % 3, " AND ver < ", ver));
    }
  };
  std::thread wa([&] { write(ServerPair::A(), 0); });
  std::thread wb([&] { write(ServerPair::B(), 1); });
  wa.join();
  wb.join();
  const std::string q = absl::StrCat("SELECT * FROM ", db_, ".hot ORDER BY id");
  testing::ExpectSameEventually(a_.get(), b_.get(), {q}, 20);
  const report::ProjectStatus status = StatusOf(*project_);
  for (const auto& l : status.links()) EXPECT_EQ(l.stage(), "incremental") << l.last_error();
}

// The conflict log keeps what its retention says: when a link starts, its records older than that
// go; recent ones and another project's stay. A run that finds nothing old writes nothing.
TEST_F(ConflictPolicyTest, ConflictRecordsOlderThanTheRetentionAreDeleted) {
  const std::string conflicts = R"({"policy": "REGION_PRIORITY", "log_retention_days": 2})";
  ConflictOnRowOne(conflicts);
  WaitForConflicts(2);
  ASSERT_TRUE(project_->Stop().ok());
  const std::string link = db_ + "/forward";
  const std::string count = absl::StrCat("SELECT COUNT(*) FROM duosync.conflicts WHERE link_id = '", link, "'");
  const std::string recent = Rows(b_.get(), count)[0];
  ASSERT_NE(recent, "0");
  ConflictRecord old;
  old.link = "forward";
  old.table = db_ + ".hot";
  old.key = "id=1";
  old.time = absl::ToUnixSeconds(absl::Now() - absl::Hours(72));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(WriteConflict(b_.get(), link, old).ok());
  ASSERT_TRUE(WriteConflict(b_.get(), "another project/forward", old).ok());
  StartProject(Config().Whitelist(db_ + ".*").ActiveActive(absl::StrCat(R"({"conflicts": )", conflicts, "}")).Json());
  EXPECT_TRUE(testing::WaitFor([&] { return Rows(b_.get(), count)[0] == recent; }, absl::Seconds(10)))
      << Rows(b_.get(), count)[0] << " records, " << recent << " recent";
  EXPECT_EQ(Rows(b_.get(), "SELECT COUNT(*) FROM duosync.conflicts WHERE link_id = 'another project/forward'")[0], "1");
  // Nothing old left: deleting writes nothing to B's binlog.
  const std::string binlog = Rows(b_.get(), "SELECT @@gtid_binlog_pos")[0];
  auto pruned = PruneConflicts(b_.get(), link, absl::ToUnixSeconds(absl::Now() - absl::Hours(48)));
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 0u);
  EXPECT_EQ(Rows(b_.get(), "SELECT @@gtid_binlog_pos")[0], binlog);
  Exec(b_.get(), "DELETE FROM duosync.conflicts WHERE link_id = 'another project/forward'");
}

}  // namespace
}  // namespace duosync
