#include "support/test_support.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"

namespace duosync::testing {
namespace {
std::vector<std::unique_ptr<harness::MariaDbServer>>* g_servers = nullptr;
}  // namespace

void ServerPair::SetUp() {
  auto servers = harness::StartServers(2);
  ASSERT_TRUE(servers.ok()) << servers.status();
  g_servers = new std::vector<std::unique_ptr<harness::MariaDbServer>>(std::move(*servers));
}

void ServerPair::TearDown() {
  delete g_servers;
  g_servers = nullptr;
}

harness::MariaDbServer& ServerPair::A() { return *(*g_servers)[0]; }
harness::MariaDbServer& ServerPair::B() { return *(*g_servers)[1]; }

std::unique_ptr<SqlConnection> Connect(const harness::MariaDbServer& server,
                                       const std::string& database) {
  auto conn = server.Connect(database);
  EXPECT_TRUE(conn.ok()) << conn.status();
  return conn.ok() ? std::move(*conn) : nullptr;
}

void Exec(SqlConnection* conn, const std::string& sql) {
  absl::Status s = conn->Execute(sql);
  ASSERT_TRUE(s.ok()) << sql << ": " << s;
}

std::vector<std::string> Rows(SqlConnection* conn, const std::string& sql) {
  auto rows = conn->Query(sql);
  EXPECT_TRUE(rows.ok()) << sql << ": " << rows.status();
  std::vector<std::string> out;
  if (!rows.ok()) return out;
  for (const auto& r : *rows) {
    std::vector<std::string> cols;
    for (const auto& c : r) cols.push_back(c.has_value() ? *c : "NULL");
    out.push_back(absl::StrJoin(cols, "|"));
  }
  return out;
}

void ResetDatabase(SqlConnection* conn, const std::string& db, const std::string& sql,
                   const std::string& options) {
  std::string all = absl::StrCat("DROP DATABASE IF EXISTS ", db, "; CREATE DATABASE ", db, " ", options);
  if (!sql.empty()) absl::StrAppend(&all, "; USE ", db, "; ", sql);
  Exec(conn, all);
}

std::string TestDatabase(const std::string& prefix) {
  return prefix + ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout, absl::Duration poll) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(poll);
  }
  return true;
}

void ExpectSameEventually(SqlConnection* a, SqlConnection* b, const std::vector<std::string>& queries,
                          int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    bool same = true;
    for (const auto& q : queries) same = same && Rows(a, q) == Rows(b, q);
    if (same) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (const auto& q : queries) EXPECT_EQ(Rows(a, q), Rows(b, q)) << q;
}

std::string EndpointJson(const harness::MariaDbServer& server) { return server.EndpointJson(); }

report::ProjectStatus StatusOf(const Project& project) {
  report::ProjectStatus s;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(project.StatusJson(), &s, o).ok());
  return s;
}

report::LinkStatus LinkStatusOf(const Project& project, const std::string& link) {
  const report::ProjectStatus status = StatusOf(project);
  for (const auto& l : status.links()) {
    if (l.name() == link) return l;
  }
  return report::LinkStatus();
}

std::string TwoServerTest::DatabaseName() const { return TestDatabase(prefix_); }

void TwoServerTest::SetUp() {
  a_ = Connect(ServerPair::A());
  b_ = Connect(ServerPair::B());
  db_ = DatabaseName();
  for (auto [conn, side] : {std::pair<SqlConnection*, Side>{a_.get(), SideA()}, {b_.get(), SideB()}}) {
    const std::string db = side.database.empty() ? db_ : side.database;
    if (side.create) {
      ResetDatabase(conn, db, side.sql, side.create_options);
    } else {
      Exec(conn, absl::StrCat("DROP DATABASE IF EXISTS ", db));
    }
  }
}

void TwoServerTest::TearDown() {
  if (project_) (void)project_->Stop();
  project_.reset();
}

void TwoServerTest::CreateBoth(const std::string& sql) {
  Exec(a_.get(), absl::StrCat("USE ", db_, "; ", sql));
  Exec(b_.get(), absl::StrCat("USE ", db_, "; ", sql));
}

void TwoServerTest::StartProject(const std::string& config) {
  config_ = config;
  auto p = Project::Create(config);
  ASSERT_TRUE(p.ok()) << p.status();
  project_ = std::move(*p);
  absl::Status s = project_->Start();
  ASSERT_TRUE(s.ok()) << s;
}

void TwoServerTest::RestartProject() {
  if (project_) ASSERT_TRUE(project_->Stop().ok());
  project_.reset();
  StartProject(config_);
}

void TwoServerTest::ExpectEventuallySame(const std::string& b_query, const std::string& a_query, int seconds) {
  const std::string aq = a_query.empty() ? b_query : a_query;
  // A failed link will not catch up: say so now instead of after the timeout.
  WaitFor([&] {
    return Rows(a_.get(), aq) == Rows(b_.get(), b_query) || (project_ && StatusOf(*project_).state() == "failed");
  }, absl::Seconds(seconds), absl::Milliseconds(50));
  const std::vector<std::string> ra = Rows(a_.get(), aq), rb = Rows(b_.get(), b_query);
  EXPECT_EQ(ra, rb) << "not in sync after " << seconds << " s\nA: " << absl::StrJoin(ra, "\n   ")
                    << "\nB: " << absl::StrJoin(rb, "\n   ")
                    << (project_ ? "\nstatus: " + project_->StatusJson() : "");
}

}  // namespace duosync::testing
