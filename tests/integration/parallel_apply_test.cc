// The parallel applier on workloads built to conflict: the destination must end exactly like the
// source (the result of applying in source order).
#include <chrono>
#include <random>
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

class ParallelApplyTest : public testing::TwoServerTest,
                          public ::testing::WithParamInterface<std::pair<int, int>> {
 protected:
  ParallelApplyTest() : TwoServerTest("par_") {}
  std::string DatabaseName() const override {
    return absl::StrCat("par_w", GetParam().first, "_b", GetParam().second);
  }
  Side SideA() const override { return Tables(); }
  Side SideB() const override { return Tables(); }
  static Side Tables() {
    return Side::WithSql("CREATE TABLE hot (id INT PRIMARY KEY, n INT NOT NULL);"
                         "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(64) NOT NULL,"
                         "  name VARCHAR(64), UNIQUE KEY (email)) COLLATE utf8mb4_general_ci;"
                         "CREATE TABLE pairs (id INT PRIMARY KEY, code INT NOT NULL, UNIQUE KEY (code));"
                         "INSERT INTO hot VALUES (1, 0), (2, 0);"
                         "INSERT INTO pairs VALUES (1, 100), (2, 200)");
  }

  void SetUp() override {
    TwoServerTest::SetUp();
    StartProject(Config()
                     .Whitelist(db_ + ".*")
                     .ForwardOptions(absl::StrCat(R"({"apply_workers": )", GetParam().first,
                                                  R"(, "apply_batch_transactions": )", GetParam().second, "}"))
                     .Json());
    // The workload becomes a backlog: the applier then sees a full window of it at once.
    ASSERT_TRUE(project_->Stop().ok());
  }

  void ExpectSameEventually() {
    testing::ExpectSameEventually(a_.get(), b_.get(),
                                  {absl::StrCat("SELECT * FROM ", db_, ".hot ORDER BY id"),
                                   absl::StrCat("SELECT id, email, name FROM ", db_, ".users ORDER BY id"),
                                   absl::StrCat("SELECT * FROM ", db_, ".pairs ORDER BY id")});
    EXPECT_EQ(project_->StatusJson().find("failed"), std::string::npos) << project_->StatusJson();
  }
};

TEST_P(ParallelApplyTest, ConflictingWorkloadEndsLikeTheSource) {
  std::mt19937 rng(GetParam().first * 31 + GetParam().second);
  auto w = Connect(ServerPair::A(), db_);
  int next_user = 1;
  for (int i = 0; i < 1500; ++i) {
    std::string sql = "BEGIN;";
    switch (rng() % 7) {
      case 0:  // hot rows
        absl::StrAppend(&sql, "UPDATE hot SET n = n + 1 WHERE id = ", 1 + rng() % 2, ";");
        break;
      case 1:  // unique key swap through a temporary value
        sql += "UPDATE pairs SET code = -1 WHERE id = 1; UPDATE pairs SET code = 100 + 200 - "
               "(SELECT c FROM (SELECT code AS c FROM pairs WHERE id = 2) x) WHERE id = 2;"
               "UPDATE pairs SET code = 300 - (SELECT c FROM (SELECT code AS c FROM pairs WHERE id = 2) y) WHERE id = 1;";
        break;
      case 2:  // a new user
        absl::StrAppend(&sql, "INSERT INTO users VALUES (", next_user, ", 'User", next_user,
                        "@Example.com', 'u');");
        ++next_user;
        break;
      case 3:  // delete and re-insert the same key in the next transaction
        if (next_user > 1) {
          const int u = 1 + rng() % (next_user - 1);
          absl::StrAppend(&sql, "DELETE FROM users WHERE id = ", u, "; COMMIT; BEGIN;",
                          "INSERT IGNORE INTO users VALUES (", u, ", 'user", u, "@example.com', 'again');");
        }
        break;
      case 4:  // primary key update: the row moves
        if (next_user > 1) {
          const int u = 1 + rng() % (next_user - 1);
          absl::StrAppend(&sql, "UPDATE IGNORE users SET id = ", next_user + 100000, " WHERE id = ", u, ";");
          ++next_user;
        }
        break;
      case 5:  // the unique email changes case only (equal under the collation)
        if (next_user > 1) {
          const int u = 1 + rng() % (next_user - 1);
          absl::StrAppend(&sql, "UPDATE users SET email = UPPER(email) WHERE id = ", u, ";");
        }
        break;
      default:  // an email moves from one user to another: delete, then insert elsewhere
        if (next_user > 2) {
          const int u = 1 + rng() % (next_user - 1);
          absl::StrAppend(&sql, "DELETE FROM users WHERE id = ", u, "; COMMIT; BEGIN;",
                          "INSERT IGNORE INTO users VALUES (", next_user + 200000, ", 'USER", u,
                          "@EXAMPLE.COM', 'moved');");
          ++next_user;
        }
        break;
    }
    sql += "COMMIT";
    Exec(w.get(), sql);
    if (i == 750) RestartProject();  // half as a backlog, half live
  }
  ExpectSameEventually();
}

INSTANTIATE_TEST_SUITE_P(WorkersAndBatching, ParallelApplyTest,
                         ::testing::Values(std::make_pair(1, 1), std::make_pair(16, 1),
                                           std::make_pair(16, 100)),
                         [](const auto& info) {
                           return absl::StrCat("workers", info.param.first, "_batch", info.param.second);
                         });

}  // namespace
}  // namespace duosync
