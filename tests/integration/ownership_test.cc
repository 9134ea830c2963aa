// One writer per link: every process that starts a link takes a new ownership epoch on the
// destination, and every transaction it writes checks it (src/apply/fence.h).
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "apply/fence.h"
#include "duosync/project.h"
#include "integration/cli_process.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Exec;
using testing::Rows;
using testing::StatusIs;

class OwnershipTest : public testing::TwoServerTest {
 protected:
  OwnershipTest() : TwoServerTest("own_") {}
  Side SideA() const override {
    return Side::WithSql("CREATE TABLE counter (id INT PRIMARY KEY, n BIGINT NOT NULL);"
                         "INSERT INTO counter VALUES (1, 0)");
  }
  // On the destination a trigger counts every applied update: a transaction applied twice (by
  // two writers) shows here even though the row alone would hide it.
  Side SideB() const override {
    return Side::WithSql(
        "CREATE TABLE counter (id INT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO counter VALUES (1, 0);"
        "CREATE TABLE updates (k INT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO updates VALUES (1, 0);"
        "CREATE TRIGGER count_updates AFTER UPDATE ON counter FOR EACH ROW "
        "UPDATE updates SET n = n + 1 WHERE k = 1");
  }

  void Increment(int times) {
    for (int i = 0; i < times; ++i) Exec(a_.get(), absl::StrCat("UPDATE ", db_, ".counter SET n = n + 1"));
  }
};

// A second `duosync run` of the same project takes the link over; the first can commit nothing
// more and stops naming the new owner. Every source transaction is applied exactly once.
TEST_F(OwnershipTest, ASecondProcessTakesTheLinkOverAndTheFirstCommitsNothingMore) {
  const std::string config = Config().Import(db_ + ".counter").Json();
  StartProject(config);
  Increment(50);
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".counter"));
  const report::LinkStatus first = testing::LinkStatusOf(*project_);

  auto second = Project::Create(config);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE((*second)->Start().ok());
  const report::LinkStatus taken = testing::LinkStatusOf(**second);
  EXPECT_GT(taken.epoch(), first.epoch());
  EXPECT_NE(taken.owner(), first.owner());

  // Both processes read the source now; only the second may write.
  Increment(200);
  testing::ExpectSameEventually(a_.get(), b_.get(), {absl::StrCat("SELECT * FROM ", db_, ".counter")});
  EXPECT_THAT(project_->Wait(absl::Seconds(30)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "taken over by"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT n FROM ", db_, ".updates"))[0], "250")
      << "each source update must be applied once";
  EXPECT_EQ(testing::LinkStatusOf(**second).stage(), "incremental") << (*second)->StatusJson();
  ASSERT_TRUE((*second)->Stop().ok());
}

// With a record store, a second process on the same data_dir is refused before it takes anything
// over: the first keeps writing.
TEST_F(OwnershipTest, ASecondProcessOnTheSameStoreIsRefusedAndTheFirstKeepsWriting) {
  char dir[] = "/tmp/duosync-own-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string config = Config().Import(db_ + ".counter").RecordStores(dir).Json();
  StartProject(config);
  const uint64_t epoch = testing::LinkStatusOf(*project_).epoch();
  auto second = Project::Create(config);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE((*second)->Start().ok());
  Increment(20);
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".counter"));
  EXPECT_EQ(testing::LinkStatusOf(*project_).epoch(), epoch);
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT n FROM ", db_, ".updates"))[0], "20");
  second->reset();
  (void)project_->Stop();
  std::filesystem::remove_all(dir);
}

// Two plain `duosync run` processes of one project (no etcd): the second takes the link over,
// the first exits naming the new owner, and every source update is applied once.
TEST_F(OwnershipTest, TwoCliProcessesOfOneProjectNeverWriteTogether) {
  char dir[] = "/tmp/duosync-own-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string config_path = std::string(dir) + "/project.json";
  std::ofstream(config_path) << Config().Import(db_ + ".counter").Json();
  const pid_t first = testing::StartCliRun(config_path, std::string(dir) + "/first.log");
  auto owner = [&] {
    auto rows = b_->Query(absl::StrCat("SELECT owner FROM duosync.owner WHERE link_id='", db_, "/forward'"));
    return rows.ok() && !rows->empty() ? (*rows)[0][0].value_or("") : std::string();
  };
  // The owner row is written before the start position is recorded: updates made in between
  // precede the link's start (no full copy here), so wait for the checkpoint too.
  auto started = [&] {
    auto rows = b_->Query(absl::StrCat("SELECT 1 FROM duosync.checkpoint WHERE link_id='", db_, "/forward'"));
    return rows.ok() && !rows->empty();
  };
  ASSERT_TRUE(testing::WaitFor(
      [&] { return owner().find(absl::StrCat(":", first, "#")) != std::string::npos && started(); },
      absl::Seconds(30)));
  Increment(100);
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".counter"));
  const pid_t second = testing::StartCliRun(config_path, std::string(dir) + "/second.log");
  ASSERT_TRUE(testing::WaitFor([&] { return owner().find(absl::StrCat(":", second, "#")) != std::string::npos; },
                               absl::Seconds(30)));
  Increment(100);
  // The first can commit nothing more: its next transaction meets the new epoch and it exits.
  int status = 0;
  ASSERT_TRUE(testing::WaitFor([&] { return waitpid(first, &status, WNOHANG) == first; }, absl::Seconds(30)));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
  std::ifstream first_log(std::string(dir) + "/first.log");
  const std::string text((std::istreambuf_iterator<char>(first_log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(absl::StrCat("taken over by ")), std::string::npos) << text;
  ExpectEventuallySame(absl::StrCat("SELECT * FROM ", db_, ".counter"));
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT n FROM ", db_, ".updates"))[0], "200");
  kill(second, SIGTERM);
  waitpid(second, nullptr, 0);
  std::filesystem::remove_all(dir);
}

// An owner that stalls inside a transaction (SIGSTOP, a hung host) holds its shared lock on the
// owner row. The takeover must not wait for it: it ends that connection, the stalled transaction
// rolls back, and nothing of it commits.
TEST_F(OwnershipTest, TakeoverEndsAStalledOwnersTransaction) {
  const std::string link = db_ + "/forward";
  auto old_owner = testing::Connect(testing::ServerPair::B());
  Exec(old_owner.get(), "CREATE DATABASE IF NOT EXISTS duosync");
  ASSERT_TRUE(EnsureOwnerTable(old_owner.get()).ok());
  auto epoch = TakeOwnership(old_owner.get(), link, "old-owner");
  ASSERT_TRUE(epoch.ok()) << epoch.status();
  // The old owner's pending write: fenced, written, not committed (its process is frozen here).
  ASSERT_TRUE(BeginFenced(old_owner.get(), Fence{link, *epoch}).ok());
  Exec(old_owner.get(), absl::StrCat("UPDATE ", db_, ".counter SET n = 99"));

  auto new_owner = testing::Connect(testing::ServerPair::B());
  auto taken = TakeOwnership(new_owner.get(), link, "new-owner");
  ASSERT_TRUE(taken.ok()) << taken.status();  // without the breaker: a lock wait timeout
  EXPECT_EQ(*taken, *epoch + 1);
  // The frozen process resumes and commits: refused, and its write is gone.
  EXPECT_FALSE(old_owner->Execute("COMMIT").ok());
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT n FROM ", db_, ".counter"))[0], "0");
}

}  // namespace
}  // namespace duosync
