// Foreign keys: a cascade at the source is not in its binlog, so the destination must repeat it
// (rows apply with its foreign keys in force), and the parallel applier must keep a parent's
// change and its children's in order.
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "duosync/project.h"
#include "duosync/report.pb.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Exec;
using testing::Rows;

class ForeignKeyTest : public testing::TwoServerTest {
 protected:
  ForeignKeyTest() : TwoServerTest("fk_") {}
  Side SideA() const override { return Tables(); }
  Side SideB() const override { return Tables(); }
  static Side Tables() {
    return Side::WithSql(
        "CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL);"
        "CREATE TABLE child (id INT PRIMARY KEY, parent_id INT NOT NULL, v INT NOT NULL,"
        "  CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE);"
        "INSERT INTO parent SELECT seq, CONCAT('p', seq) FROM seq_1_to_50;"
        "INSERT INTO child SELECT seq, 1 + seq % 50, seq FROM seq_1_to_500");
  }
  std::vector<std::string> Both() const {
    return {absl::StrCat("SELECT * FROM ", db_, ".parent ORDER BY id"),
            absl::StrCat("SELECT * FROM ", db_, ".child ORDER BY id")};
  }
};

TEST_F(ForeignKeyTest, ACascadeDeleteInOneRegionRemovesTheChildrenInTheOther) {
  StartProject(Config().Whitelist(db_ + ".*").Json());
  Exec(a_.get(), absl::StrCat("DELETE FROM ", db_, ".parent WHERE id <= 10"));
  testing::ExpectSameEventually(a_.get(), b_.get(), Both());
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".child WHERE parent_id <= 10"))[0], "0");
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".child"))[0], "400");
}

TEST_F(ForeignKeyTest, ACascadeInAnActiveActiveProjectReachesTheOtherRegion) {
  StartProject(Config().Whitelist(db_ + ".*").ActiveActive().Json());
  Exec(b_.get(), absl::StrCat("DELETE FROM ", db_, ".parent WHERE id > 45"));
  Exec(a_.get(), absl::StrCat("DELETE FROM ", db_, ".parent WHERE id <= 5"));
  testing::ExpectSameEventually(a_.get(), b_.get(), Both());
  EXPECT_EQ(Rows(a_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".child"))[0], "400");
  EXPECT_EQ(testing::LinkStatusOf(*project_, "reverse").conflicts(), 0u);
}

// A parent that loses its unique value in a conflict is removed with its children in one region;
// in the other the children arrive without their parent and are passed over (and logged), so both
// regions end alike and neither link stops.
TEST_F(ForeignKeyTest, ChildrenOfAParentThatLostAConflictArePassedOver) {
  for (SqlConnection* c : {a_.get(), b_.get()}) {
    Exec(c, absl::StrCat("ALTER TABLE ", db_, ".parent ADD UNIQUE KEY by_name (name)"));
  }
  StartProject(Config().Whitelist(db_ + ".*").ActiveActive().Json());
  ASSERT_TRUE(project_->Pause("").ok());
  Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".parent SET name = 'taken' WHERE id = 1"));
  Exec(b_.get(), absl::StrCat("INSERT INTO ", db_, ".parent VALUES (100, 'taken'); INSERT INTO ", db_,
                              ".child VALUES (1000, 100, 7)"));
  ASSERT_TRUE(project_->Resume("").ok());
  testing::ExpectSameEventually(a_.get(), b_.get(), Both());
  EXPECT_EQ(Rows(a_.get(), absl::StrCat("SELECT name FROM ", db_, ".parent WHERE id = 1"))[0], "taken");
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".child WHERE id = 1000"))[0], "0");
  // The regions may match before the reverse link met the orphan child: wait for its record.
  EXPECT_TRUE(testing::WaitFor(
      [&] { return project_->ConflictsJson().find("the row it references is not on the destination") != std::string::npos; },
      absl::Seconds(30)))
      << project_->ConflictsJson();
  const report::ProjectStatus status = testing::StatusOf(*project_);
  for (const auto& link : status.links()) EXPECT_EQ(link.last_error(), "") << link.name();
}

// Parents and children written in separate transactions, parents deleted again (cascading), under
// 16 workers: a child applied before its parent, or a parent deleted before a child's change,
// would fail the foreign key (or orphan the child).
// A foreign key to a nullable UNIQUE column: the applier's key hashes do not see the parent's
// value, so nothing in the transaction may move. Were the second child row written with the
// first (grouped statements), it would go in before its namesake parent is deleted, and the
// cascade would take it.
TEST_F(ForeignKeyTest, AChildOfANullableUniqueParentKeyKeepsItsPlaceInTheTransaction) {
  for (SqlConnection* c : {a_.get(), b_.get()}) {
    Exec(c, absl::StrCat("USE ", db_, "; CREATE TABLE coded (id INT PRIMARY KEY, code VARCHAR(10) NULL UNIQUE);"
                         "CREATE TABLE tagged (id INT PRIMARY KEY, code VARCHAR(10),"
                         "  FOREIGN KEY (code) REFERENCES coded (code) ON DELETE CASCADE);"
                         "INSERT INTO coded VALUES (1, 'A'), (3, 'Z')"));
  }
  StartProject(Config().Whitelist(db_ + ".*").Json());
  Exec(a_.get(), absl::StrCat("USE ", db_, "; BEGIN; INSERT INTO tagged VALUES (9, 'Z');"
                              "DELETE FROM coded WHERE id = 1; INSERT INTO coded VALUES (2, 'A');"
                              "INSERT INTO tagged VALUES (10, 'A'); COMMIT"));
  testing::ExpectSameEventually(a_.get(), b_.get(),
                                {absl::StrCat("SELECT * FROM ", db_, ".coded ORDER BY id"),
                                 absl::StrCat("SELECT * FROM ", db_, ".tagged ORDER BY id")});
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT id FROM ", db_, ".tagged ORDER BY id")),
            (std::vector<std::string>{"9", "10"}));
}

TEST_F(ForeignKeyTest, AParentChildWorkloadUnderSixteenWorkersEndsIdentical) {
  StartProject(Config().Whitelist(db_ + ".*").ForwardOptions(R"({"apply_workers": 16})").Json());
  auto w = testing::Connect(testing::ServerPair::A(), db_);
  std::mt19937 rng(7);
  for (int p = 100; p < 700; ++p) {
    Exec(w.get(), absl::StrCat("INSERT INTO parent VALUES (", p, ", 'p')"));
    Exec(w.get(), absl::StrCat("INSERT INTO child VALUES (", p * 10, ", ", p, ", 1), (", p * 10 + 1, ", ", p, ", 2)"));
    Exec(w.get(), absl::StrCat("UPDATE child SET v = v + 1, parent_id = ", p, " WHERE id = ", 1 + rng() % 500));
    if (p % 3 == 0) Exec(w.get(), absl::StrCat("DELETE FROM parent WHERE id = ", p - 2));
  }
  testing::ExpectSameEventually(a_.get(), b_.get(), Both(), 60);
  EXPECT_EQ(testing::LinkStatusOf(*project_).last_error(), "");
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

// A source session with foreign_key_checks=0 (a bulk load that writes children before their
// parents, a cleanup that leaves orphans on purpose): its rows apply without the checks and
// without cascades, as a replica applies them, on one-way and active-active links.
class ForeignKeyChecksOffTest : public ForeignKeyTest, public ::testing::WithParamInterface<bool> {
 protected:
  std::string DatabaseName() const override { return GetParam() ? "fk_off_active_active" : "fk_off_one_way"; }
};

TEST_P(ForeignKeyChecksOffTest, RowsWrittenWithoutChecksApplyWithoutThem) {
  testing::ConfigBuilder config = Config().Whitelist(db_ + ".*");
  if (GetParam()) config.ActiveActive();
  StartProject(config.Json());
  Exec(a_.get(), absl::StrCat("USE ", db_, "; SET SESSION foreign_key_checks=0; BEGIN;"
                              "INSERT INTO child VALUES (1001, 60, 1);"      // its parent comes later
                              "INSERT INTO parent VALUES (60, 'late');"
                              "INSERT INTO child VALUES (1002, 99, 2);"      // never gets one
                              "DELETE FROM parent WHERE id = 1;"             // no cascade here
                              "COMMIT; SET SESSION foreign_key_checks=1;"
                              "INSERT INTO child VALUES (1003, 60, 3)"));    // checked again
  testing::ExpectSameEventually(a_.get(), b_.get(), Both());
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".child WHERE parent_id = 1"))[0], "10");
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".child"))[0], "503");
  EXPECT_TRUE(absl::IsDeadlineExceeded(project_->Wait(absl::Milliseconds(100)))) << project_->StatusJson();
}

INSTANTIATE_TEST_SUITE_P(OneWayAndActiveActive, ForeignKeyChecksOffTest, ::testing::Bool());

}  // namespace
}  // namespace duosync
