// Active-active convergence: both regions change the same rows (and take the same unique values)
// while the links are paused, then the links run one after the other, in either order. Under
// LAST_WRITER_WINS and REGION_PRIORITY both regions must end identical, with the row the policy
// names; under IGNORE they may differ only where the conflict log says so.
#include <map>
#include <ostream>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "duosync/project.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Exec;
using testing::Rows;

struct Scenario {
  std::string policy;          // LAST_WRITER_WINS, REGION_PRIORITY, IGNORE
  std::string loop_prevention;  // SESSION_ORIGIN, MARKER_TABLE
  bool forward_first;          // which link applies the other region's changes first
};

void PrintTo(const Scenario& s, std::ostream* os) {
  *os << s.policy << ", " << s.loop_prevention << ", " << (s.forward_first ? "forward first" : "reverse first");
}

std::string Name(const ::testing::TestParamInfo<Scenario>& info) {
  const Scenario& s = info.param;
  return absl::StrCat(s.policy == "LAST_WRITER_WINS" ? "lww" : s.policy == "REGION_PRIORITY" ? "priority" : "ignore",
                      "_", s.loop_prevention == "MARKER_TABLE" ? "marker" : "origin", "_",
                      s.forward_first ? "forward_first" : "reverse_first");
}

class ConvergenceTest : public testing::TwoServerTest, public ::testing::WithParamInterface<Scenario> {
 protected:
  ConvergenceTest() : TwoServerTest("cv_") {}
  std::string DatabaseName() const override { return absl::StrCat("cv_", Name({GetParam(), 0})); }
  Side SideA() const override { return Tables(); }
  Side SideB() const override { return Tables(); }
  // `pk` for conflicts on the primary key, `uk` for conflicts on a unique key. Every row starts
  // at version 10 in both regions.
  static Side Tables() {
    return Side::WithSql(
        "CREATE TABLE pk (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL, ver BIGINT NOT NULL);"
        "CREATE TABLE uk (id INT PRIMARY KEY, u VARCHAR(10) NOT NULL, v VARCHAR(20) NOT NULL,"
        "  ver BIGINT NOT NULL, UNIQUE KEY by_u (u));"
        "INSERT INTO pk SELECT seq, 'base', 10 FROM seq_1_to_20;"
        "INSERT INTO uk SELECT seq, CONCAT('u', seq), 'base', 10 FROM seq_1_to_20");
  }

  std::string ConfigJson() const {
    const Scenario& s = GetParam();
    std::string conflicts = absl::StrCat(R"({"policy": ")", s.policy, R"(")");
    if (s.policy == "LAST_WRITER_WINS") conflicts += R"(, "column": "ver")";
    conflicts += "}";
    return Config()
        .Whitelist(db_ + ".*")
        .ActiveActive(absl::StrCat(R"({"loop_prevention": ")", s.loop_prevention, R"(", "conflicts": )",
                                   conflicts, "}"))
        .Json();
  }

  // Every operation pair, each on rows of its own. A's changes, then B's.
  void WriteConflicts() {
    Exec(a_.get(), absl::StrCat(
        "USE ", db_, ";"
        "UPDATE pk SET v = 'A', ver = 12 WHERE id = 1;"    // update/update, A newer
        "UPDATE pk SET v = 'A', ver = 11 WHERE id = 2;"    // update/update, B newer
        "UPDATE pk SET v = 'A', ver = 11 WHERE id = 3;"    // update/update, tie
        "UPDATE pk SET v = 'A', ver = 11 WHERE id = 4;"    // update/delete
        "DELETE FROM pk WHERE id = 5;"                     // delete/update (B newer)
        "DELETE FROM pk WHERE id = 6;"                     // delete/update, version unchanged (tie)
        "UPDATE pk SET v = 'A' WHERE id = 7;"              // update (version unchanged)/delete
        "DELETE FROM pk WHERE id = 8;"                     // delete/delete
        "INSERT INTO pk VALUES (101, 'A', 5);"             // insert/insert, B newer
        "INSERT INTO pk VALUES (102, 'A', 5);"             // insert/insert, tie
        "BEGIN; DELETE FROM pk WHERE id = 11; INSERT INTO pk VALUES (11, 'A again', 12); COMMIT;"
        "INSERT INTO uk VALUES (201, 'x1', 'A', 5);"        // insert/insert of one unique value, B newer
        "INSERT INTO uk VALUES (203, 'x2', 'A', 5);"        // ... tie
        "UPDATE uk SET u = 'y1', v = 'A', ver = 12 WHERE id = 12;"  // update/insert of a unique value, A newer
        "UPDATE uk SET u = 'y2', v = 'A', ver = 11 WHERE id = 13;"  // ... B newer
        "UPDATE uk SET u = 'z1', v = 'A', ver = 12 WHERE id = 14;"  // update/update of a unique value, A newer
        "UPDATE uk SET u = 'z2', v = 'A', ver = 11 WHERE id = 16;"  // ... B newer
        "UPDATE uk SET u = 'w1', v = 'A', ver = 12 WHERE id = 18;"  // newest of its row, loses its value
        "UPDATE uk SET id = 219 WHERE id = 19;"                     // the same key change in both
        "UPDATE pk SET v = 'A' WHERE id = 20"));  // no conflict
    Exec(b_.get(), absl::StrCat(
        "USE ", db_, ";"
        "UPDATE pk SET v = 'B', ver = 11 WHERE id = 1;"
        "UPDATE pk SET v = 'B', ver = 12 WHERE id = 2;"
        "UPDATE pk SET v = 'B', ver = 11 WHERE id = 3;"
        "DELETE FROM pk WHERE id = 4;"
        "UPDATE pk SET v = 'B', ver = 11 WHERE id = 5;"
        "UPDATE pk SET v = 'B' WHERE id = 6;"
        "DELETE FROM pk WHERE id = 7;"
        "DELETE FROM pk WHERE id = 8;"
        "INSERT INTO pk VALUES (101, 'B', 6);"
        "INSERT INTO pk VALUES (102, 'B', 5);"
        "UPDATE pk SET v = 'B', ver = 11 WHERE id = 11;"
        "INSERT INTO uk VALUES (202, 'x1', 'B', 6);"
        "INSERT INTO uk VALUES (204, 'x2', 'B', 5);"
        "INSERT INTO uk VALUES (205, 'y1', 'B', 11);"
        "INSERT INTO uk VALUES (206, 'y2', 'B', 12);"
        "UPDATE uk SET u = 'z1', v = 'B', ver = 11 WHERE id = 15;"
        "UPDATE uk SET u = 'z2', v = 'B', ver = 12 WHERE id = 17;"
        "UPDATE uk SET v = 'B', ver = 11 WHERE id = 18;"
        "INSERT INTO uk VALUES (207, 'w1', 'B', 20);"
        "UPDATE uk SET id = 219 WHERE id = 19;"
        "UPDATE pk SET v = 'B' WHERE id = 19"));  // no conflict
  }

  // id -> the rest of the row, of one table on one side.
  std::map<std::string, std::string> Table(SqlConnection* c, const std::string& table) {
    std::map<std::string, std::string> out;
    for (const std::string& row : Rows(c, absl::StrCat("SELECT * FROM ", db_, ".", table, " ORDER BY id"))) {
      const size_t bar = row.find('|');
      out[row.substr(0, bar)] = row.substr(bar + 1);
    }
    return out;
  }
  std::string Row(SqlConnection* c, const std::string& table, int id) {
    auto t = Table(c, table);
    auto it = t.find(absl::StrCat(id));
    return it == t.end() ? "(absent)" : it->second;
  }

  // Runs one link alone until it has applied everything up to `gtid` (the other region's last
  // transaction): its position is a watermark, so every conflict before it is resolved by then.
  void RunAlone(const std::string& link, const std::string& gtid) {
    ASSERT_TRUE(project_->Resume(link).ok());
    const std::vector<std::string> want = absl::StrSplit(gtid, '-');
    ASSERT_EQ(want.size(), 3u) << gtid;
    auto applied = [&] {
      const std::string position = testing::LinkStatusOf(*project_, link).position();
      for (absl::string_view entry : absl::StrSplit(position, ',')) {
        const std::vector<std::string> got = absl::StrSplit(entry, '-');
        if (got.size() == 3 && got[0] == want[0] && std::stoull(got[2]) >= std::stoull(want[2])) return true;
      }
      return false;
    };
    ASSERT_TRUE(testing::WaitFor(applied, absl::Seconds(30)))
        << link << " never applied " << gtid << ": " << project_->StatusJson();
  }

  void WriteBothThenApplyInOrder() {
    StartProject(ConfigJson());
    ASSERT_TRUE(project_->Pause("forward").ok());
    ASSERT_TRUE(project_->Pause("reverse").ok());
    WriteConflicts();
    const std::string a_end = Rows(a_.get(), "SELECT @@last_gtid")[0];
    const std::string b_end = Rows(b_.get(), "SELECT @@last_gtid")[0];
    if (GetParam().forward_first) {
      RunAlone("forward", a_end);
      RunAlone("reverse", b_end);
    } else {
      RunAlone("reverse", b_end);
      RunAlone("forward", a_end);
    }
  }
};

TEST_P(ConvergenceTest, EveryOperationPairOnEveryKeyEndsAsThePolicySays) {
  WriteBothThenApplyInOrder();
  const Scenario& s = GetParam();
  const std::string conflicts = project_->ConflictsJson();

  if (s.policy == "IGNORE") {
    // Each row left different is one the log names.
    for (const std::string table : {"pk", "uk"}) {
      auto a = Table(a_.get(), table), b = Table(b_.get(), table);
      std::map<std::string, int> ids;
      for (const auto& [id, row] : a) ids[id] |= 1;
      for (const auto& [id, row] : b) ids[id] |= 2;
      for (const auto& [id, sides] : ids) {
        if (sides == 3 && a[id] == b[id]) continue;
        EXPECT_NE(conflicts.find(absl::StrCat("\"key\":\"id=", id, "\"")), std::string::npos)
            << table << " id=" << id << " differs (A: " << a[id] << ", B: " << b[id] << ") unlogged: " << conflicts;
      }
    }
    EXPECT_NE(Row(a_.get(), "pk", 1), Row(b_.get(), "pk", 1));
    return;
  }

  for (const char* table : {"pk", "uk"}) {
    EXPECT_EQ(Table(a_.get(), table), Table(b_.get(), table)) << table << "; conflicts: " << conflicts;
  }
  const bool lww = s.policy == "LAST_WRITER_WINS";
  // Region A is the priority region (the default): it wins under REGION_PRIORITY and LWW ties.
  EXPECT_EQ(Row(b_.get(), "pk", 1), "A|12");
  EXPECT_EQ(Row(b_.get(), "pk", 2), lww ? "B|12" : "A|11");
  EXPECT_EQ(Row(b_.get(), "pk", 3), "A|11");
  EXPECT_EQ(Row(b_.get(), "pk", 4), "A|11");
  EXPECT_EQ(Row(b_.get(), "pk", 5), lww ? "B|11" : "(absent)");
  EXPECT_EQ(Row(b_.get(), "pk", 6), "(absent)") << "a tie of DELETE and UPDATE goes to region A";
  EXPECT_EQ(Row(b_.get(), "pk", 7), "A|10");
  EXPECT_EQ(Row(b_.get(), "pk", 8), "(absent)");
  EXPECT_EQ(Row(b_.get(), "pk", 101), lww ? "B|6" : "A|5");
  EXPECT_EQ(Row(b_.get(), "pk", 102), "A|5");
  EXPECT_EQ(Row(b_.get(), "pk", 11), "A again|12");
  // One unique value, two rows: only the winner is left.
  EXPECT_EQ(Row(b_.get(), "uk", 201), lww ? "(absent)" : "x1|A|5");
  EXPECT_EQ(Row(b_.get(), "uk", 202), lww ? "x1|B|6" : "(absent)");
  EXPECT_EQ(Row(b_.get(), "uk", 203), "x2|A|5");
  EXPECT_EQ(Row(b_.get(), "uk", 204), "(absent)");
  EXPECT_EQ(Row(b_.get(), "uk", 12), "y1|A|12");
  EXPECT_EQ(Row(b_.get(), "uk", 205), "(absent)");
  EXPECT_EQ(Row(b_.get(), "uk", 13), lww ? "(absent)" : "y2|A|11");
  EXPECT_EQ(Row(b_.get(), "uk", 206), lww ? "y2|B|12" : "(absent)");
  EXPECT_EQ(Row(b_.get(), "uk", 14), "z1|A|12");
  EXPECT_EQ(Row(b_.get(), "uk", 15), "(absent)");
  EXPECT_EQ(Row(b_.get(), "uk", 16), lww ? "(absent)" : "z2|A|11");
  EXPECT_EQ(Row(b_.get(), "uk", 17), lww ? "z2|B|12" : "(absent)");
  // Row 18's newest version (A's) loses its unique value to B's newer row 207 under LWW: gone in
  // both regions, though B's own older version of it was not the before image.
  EXPECT_EQ(Row(b_.get(), "uk", 18), lww ? "(absent)" : "w1|A|12");
  EXPECT_EQ(Row(b_.get(), "uk", 207), lww ? "w1|B|20" : "(absent)");
  EXPECT_EQ(Row(b_.get(), "uk", 219), "u19|base|10");
  EXPECT_EQ(Row(b_.get(), "uk", 19), "(absent)");
  // Untouched rows stay.
  EXPECT_EQ(Row(a_.get(), "pk", 20), "A|10");
  EXPECT_EQ(Row(b_.get(), "pk", 19), "B|10");
  // The log has both images of a conflict, on the destination.
  EXPECT_NE(conflicts.find("\"key\":\"id=1\""), std::string::npos) << conflicts;
  EXPECT_NE(conflicts.find("holds one of its unique values"), std::string::npos) << conflicts;
  // Every conflict is kept where it was resolved: 18 reach A and 17 reach B (a DELETE meeting a
  // deleted row, or a change made alike in both, is none); under LAST_WRITER_WINS A's re-insert of
  // row 11 meets B's row again after its DELETE lost.
  const std::string count = absl::StrCat("SELECT COUNT(*) FROM duosync.conflicts WHERE link_id LIKE '", db_, "/%'");
  EXPECT_EQ(Rows(a_.get(), count)[0], "18") << conflicts;
  EXPECT_EQ(Rows(b_.get(), count)[0], lww ? "18" : "17") << conflicts;
}

INSTANTIATE_TEST_SUITE_P(
    PoliciesLoopModesAndOrders, ConvergenceTest,
    ::testing::Values(Scenario{"LAST_WRITER_WINS", "SESSION_ORIGIN", true},
                      Scenario{"LAST_WRITER_WINS", "SESSION_ORIGIN", false},
                      Scenario{"LAST_WRITER_WINS", "MARKER_TABLE", true},
                      Scenario{"LAST_WRITER_WINS", "MARKER_TABLE", false},
                      Scenario{"REGION_PRIORITY", "SESSION_ORIGIN", true},
                      Scenario{"REGION_PRIORITY", "SESSION_ORIGIN", false},
                      Scenario{"REGION_PRIORITY", "MARKER_TABLE", true},
                      Scenario{"REGION_PRIORITY", "MARKER_TABLE", false},
                      Scenario{"IGNORE", "SESSION_ORIGIN", true},
                      Scenario{"IGNORE", "MARKER_TABLE", false}),
    Name);

}  // namespace
}  // namespace duosync
