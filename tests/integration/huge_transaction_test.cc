// A transaction too big to hold whole is applied in parts (options.transaction_part_mb) as one
// destination transaction: all of it or nothing, exactly once, in order, also through the
// conflict policy of an active-active link. (Its memory is measured by
// bench/huge_transaction_bench.)
#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "duosync/project.h"
#include "duosync/report.pb.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Exec;
using testing::Rows;

class HugeTransactionTest : public testing::TwoServerTest {
 protected:
  HugeTransactionTest() : TwoServerTest("huge_") {}
  Side SideA() const override { return Side::WithSql(kTable); }
  Side SideB() const override { return Side::WithSql(kTable); }
  static constexpr const char* kTable =
      "CREATE TABLE t (id INT PRIMARY KEY, pad VARCHAR(200) NOT NULL, u INT UNIQUE NOT NULL)";

  // One transaction of `rows` inserts, then updates and deletes of some of them (in later parts),
  // then an update that moves a unique value the inserts took.
  void BigTransaction(int rows) {
    Exec(a_.get(), absl::StrCat(
        "USE ", db_, "; BEGIN;"
        "INSERT INTO t SELECT seq, REPEAT('x', 150), seq FROM seq_1_to_", rows, ";"
        "UPDATE t SET pad = 'updated' WHERE id <= 100;"
        "DELETE FROM t WHERE id > ", rows - 50, ";"
        "UPDATE t SET u = ", rows, " WHERE id = 1;"
        "COMMIT"));
  }
  std::string Count(SqlConnection* c) { return Rows(c, absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t"))[0]; }
  void ExpectIdentical() {
    ExpectEventuallySame(absl::StrCat("SELECT COUNT(*), SUM(id), SUM(u), SUM(pad = 'updated') FROM ", db_, ".t"),
                         "", 120);
    const std::string checksum = absl::StrCat("CHECKSUM TABLE ", db_, ".t");
    EXPECT_EQ(Rows(a_.get(), checksum), Rows(b_.get(), checksum));
  }
};

TEST_F(HugeTransactionTest, AppliesInPartsAsOneTransactionInOrder) {
  StartProject(Config().Import(db_ + ".t").ForwardOptions(R"({"transaction_part_mb": 1})").Json());
  BigTransaction(15000);  // about 7 parts of 1 MiB
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (0, 'after', 0)"));
  ExpectIdentical();
  EXPECT_EQ(Count(b_.get()), "14951");
  // (Counted once a commit is through, a moment after its rows show.)
  testing::WaitFor([&] { return testing::LinkStatusOf(*project_).rows_applied() >= 15152u; }, absl::Seconds(10));
  EXPECT_EQ(testing::LinkStatusOf(*project_).rows_applied(), 15152u) << project_->StatusJson();
}

// Stopped while the parts flow: the destination shows none of it; the next run applies it once.
TEST_F(HugeTransactionTest, AStopInTheMiddleCommitsNothingAndTheNextRunAppliesItOnce) {
  const std::string config = Config().Import(db_ + ".t").ForwardOptions(R"({"transaction_part_mb": 1})").Json();
  StartProject(config);
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (-1, 'before', -1)"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t"));
  // A session on the destination holds row -1, which the transaction updates half-way: its
  // apply waits there with the first half written, uncommitted.
  auto blocker = testing::Connect(testing::ServerPair::B(), db_);
  Exec(blocker.get(), "BEGIN; SELECT * FROM t WHERE id = -1 FOR UPDATE");
  Exec(a_.get(), absl::StrCat("USE ", db_, "; BEGIN;"
                              "INSERT INTO t SELECT seq, REPEAT('x', 150), seq FROM seq_1_to_30000;"
                              "UPDATE t SET pad = 'middle' WHERE id = -1;"
                              "INSERT INTO t SELECT seq, REPEAT('y', 150), seq FROM seq_30001_to_60000;"
                              "COMMIT"));
  auto dirty = testing::Connect(testing::ServerPair::B(), db_);  // sees uncommitted rows
  Exec(dirty.get(), "SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED");
  ASSERT_TRUE(testing::WaitFor([&] { return Rows(dirty.get(), "SELECT COUNT(*) FROM t")[0] == "30001"; },
                               absl::Seconds(60)))
      << Rows(dirty.get(), "SELECT COUNT(*) FROM t")[0];
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::seconds(1));  // the stop is under way by then
    Exec(blocker.get(), "ROLLBACK");
  });
  project_.reset();  // returns once the waiting statement is through
  release.join();
  EXPECT_EQ(Count(b_.get()), "1") << "a part of the transaction was committed";
  StartProject(config);
  ExpectEventuallySame(absl::StrCat("SELECT COUNT(*), SUM(id), SUM(u), SUM(pad = 'middle') FROM ", db_, ".t"), "", 120);
  EXPECT_EQ(Count(b_.get()), "60001");
}

// With a record store the parts are stored as they come (in small segments here, which the
// transaction outgrows) and applied from the store; a restart reads them back from it.
TEST_F(HugeTransactionTest, ThroughARecordStoreThePartsAreStoredAndApplied) {
  char dir[] = "/tmp/duosync-huge-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string config = Config()
                                 .Import(db_ + ".t")
                                 .RecordStores(dir)
                                 .ForwardOptions(R"({"transaction_part_mb": 1, "store_segment_mb": 1})")
                                 .Json();
  StartProject(config);
  ASSERT_TRUE(testing::ServerPair::B().Stop().ok());  // the store fills; nothing is applied
  BigTransaction(15000);
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (0, 'after', 0)"));
  const std::string end = Rows(a_.get(), "SELECT @@gtid_binlog_pos")[0];
  ASSERT_TRUE(testing::WaitFor(
      [&] { return project_->StatusJson().find(absl::StrCat("\"end_position\":\"", end)) != std::string::npos; },
      absl::Seconds(60)))
      << project_->StatusJson();
  project_.reset();
  ASSERT_TRUE(testing::ServerPair::B().Restart().ok());
  b_ = testing::Connect(testing::ServerPair::B());
  StartProject(config);
  ExpectIdentical();
  EXPECT_EQ(Count(b_.get()), "14951");
  project_.reset();
  std::filesystem::remove_all(dir);
}

// Active-active, under both loop preventions: the parts go through the conflict policy in one
// destination transaction, and the other link passes the echo over whole (with markers, the
// marker is in its first part), so nothing comes back.
class HugeActiveActiveTest : public HugeTransactionTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string DatabaseName() const override {
    return GetParam() == "MARKER_TABLE" ? "huge_aa_marker" : "huge_aa_origin";
  }
};

TEST_P(HugeActiveActiveTest, PartsGoThroughThePolicyAndNothingComesBack) {
  StartProject(Config()
                   .Import(db_ + ".t")
                   .ActiveActive(absl::StrCat(R"({"loop_prevention": ")", GetParam(), R"("})"))
                   .ForwardOptions(R"({"transaction_part_mb": 1})")
                   .ReverseOptions(R"({"transaction_part_mb": 1})")
                   .Json());
  Exec(b_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (5, 'b wrote it first', 999999)"));
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".t"));
  Exec(a_.get(), absl::StrCat("DELETE FROM ", db_, ".t WHERE id = 5"));
  ExpectEventuallySame(absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t"));
  BigTransaction(10000);
  ExpectIdentical();
  // A row B writes after the big transaction reached it: once A has it, the reverse link has
  // passed the big transaction's echo (it reads B's binlog in order).
  Exec(b_.get(), absl::StrCat("INSERT INTO ", db_, ".t VALUES (-7, 'after the echo', -7)"));
  ASSERT_TRUE(testing::WaitFor(
      [&] { return Rows(a_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t WHERE id = -7"))[0] == "1"; },
      absl::Seconds(60)))
      << project_->StatusJson();
  ExpectIdentical();
  const report::LinkStatus reverse = testing::LinkStatusOf(*project_, "reverse");
  EXPECT_LT(reverse.rows_applied(), 10u) << "the big transaction came back: " << project_->StatusJson();
  EXPECT_GE(reverse.echoes_dropped(), 1u) << project_->StatusJson();
  EXPECT_EQ(reverse.last_error(), "") << project_->StatusJson();
  EXPECT_TRUE(absl::IsDeadlineExceeded(project_->Wait(absl::Milliseconds(100)))) << project_->StatusJson();
}

// More rows of a transaction in parts conflict than the conflict records kept in memory: the
// count in status is exact all the same, and the regions converge.
TEST_F(HugeTransactionTest, EveryConflictOfAHugeTransactionIsCounted) {
  const std::string config = Config()
                                 .Import(db_ + ".t")
                                 .ActiveActive()
                                 .ForwardOptions(R"({"transaction_part_mb": 1})")
                                 .ReverseOptions(R"({"transaction_part_mb": 1})")
                                 .Json();
  StartProject(config);
  Exec(a_.get(), absl::StrCat("INSERT INTO ", db_, ".t SELECT seq, 'orig', seq FROM ", db_, ".seq_1_to_1500"));
  ExpectEventuallySame(absl::StrCat("SELECT COUNT(*), SUM(pad = 'orig') FROM ", db_, ".t"));
  project_.reset();
  // Both regions change the same 1500 rows while the project is stopped.
  Exec(b_.get(), absl::StrCat("UPDATE ", db_, ".t SET pad = 'b'"));
  Exec(a_.get(), absl::StrCat("USE ", db_, "; BEGIN; UPDATE t SET pad = 'a';"
                              "INSERT INTO t SELECT seq, REPEAT('x', 150), seq FROM seq_1501_to_12000; COMMIT"));
  StartProject(config);
  ExpectIdentical();
  // (Counted once its commit is through, a moment after the rows show.)
  testing::WaitFor([&] { return testing::LinkStatusOf(*project_, "forward").conflicts() >= 1500u; },
                   absl::Seconds(10));
  EXPECT_EQ(testing::LinkStatusOf(*project_, "forward").conflicts(), 1500u) << project_->StatusJson();
}

INSTANTIATE_TEST_SUITE_P(LoopPrevention, HugeActiveActiveTest, ::testing::Values("SESSION_ORIGIN", "MARKER_TABLE"));

}  // namespace
}  // namespace duosync
