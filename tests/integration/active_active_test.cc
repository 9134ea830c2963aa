// Active-active projects: both regions written at once, every change reaches the other side once,
// nothing echoes back — with either loop-prevention mode.
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "duosync/project.h"
#include "duosync/report.pb.h"
#include "google/protobuf/util/json_util.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Connect;
using testing::Exec;
using testing::Rows;
using testing::ServerPair;

report::ProjectStatus StatusOf(const Project& p) {
  report::ProjectStatus s;
  google::protobuf::util::JsonParseOptions o;
  (void)google::protobuf::util::JsonStringToMessage(p.StatusJson(), &s, o);
  return s;
}

class ActiveActiveTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    a_ = Connect(ServerPair::A());
    b_ = Connect(ServerPair::B());
    db_ = absl::StrCat("aa_", GetParam());
    for (SqlConnection* c : {a_.get(), b_.get()}) {
      Exec(c, absl::StrCat("DROP DATABASE IF EXISTS ", db_, "; CREATE DATABASE ", db_, "; USE ", db_, ";"
                           "CREATE TABLE counters (region CHAR(1) PRIMARY KEY, n BIGINT NOT NULL);"
                           "CREATE TABLE orders (id INT PRIMARY KEY, region CHAR(1) NOT NULL,"
                           "  amount INT NOT NULL, note VARCHAR(40));"
                           "INSERT INTO counters VALUES ('A', 0), ('B', 0)"));
    }
  }
  void TearDown() override {
    if (project_) (void)project_->Stop();
  }

  std::string Config(const std::string& extra = "") {
    return absl::StrCat(
        R"({"name": ")", db_, R"(", "scenario": "ACTIVE_ACTIVE", "endpoints": {"a": )",
        ServerPair::A().EndpointJson(), R"(, "b": )", ServerPair::B().EndpointJson(),
        R"(}, "forward": {"migration_types": ["INCREMENTAL"], "objects": {"rules": {"whitelist": [")",
        db_, R"(.*"]}}}, "reverse": {"migration_types": ["INCREMENTAL"]},
        "active_active": {"loop_prevention": ")", GetParam(), R"(")", extra, "}}");
  }

  // Writes `n` transactions in region `region` on keys it owns.
  static void Write(const harness::MariaDbServer& server, const std::string& db, char region, int n) {
    auto c = Connect(server, db);
    std::mt19937 rng(region);
    const int base = region == 'A' ? 0 : 1000000;
    for (int i = 1; i <= n; ++i) {
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
    const std::vector<std::string> queries = {
        absl::StrCat("SELECT * FROM ", db_, ".counters ORDER BY region"),
        absl::StrCat("SELECT * FROM ", db_, ".orders ORDER BY id")};
    bool same = false;
    for (int i = 0; i < 600 && !same; ++i) {
      same = true;
      for (const auto& q : queries) same = same && Rows(a_.get(), q) == Rows(b_.get(), q);
      if (!same) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (const auto& q : queries) EXPECT_EQ(Rows(a_.get(), q), Rows(b_.get(), q)) << q;
  }

  std::unique_ptr<SqlConnection> a_, b_;
  std::string db_;
  std::unique_ptr<Project> project_;
};

TEST_P(ActiveActiveTest, ConcurrentDisjointWritesReachTheOtherSideOnceAndNeverEcho) {
  auto p = Project::Create(Config());
  ASSERT_TRUE(p.ok()) << p.status();
  project_ = std::move(*p);
  ASSERT_TRUE(project_->Start().ok());
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

INSTANTIATE_TEST_SUITE_P(LoopPrevention, ActiveActiveTest,
                         ::testing::Values("SESSION_ORIGIN", "MARKER_TABLE"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace duosync
