// A source that fails over: its primary dies and a replica that lagged behind the link is promoted.
// The replica never had the primary's last transactions (B has them); its own new transactions
// reuse their sequence numbers under its server id. Real MariaDB replication between two servers
// of the test's own, B the harness's.
#include <stdlib.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "duosync/project.h"
#include "harness/mariadb_server.h"
#include "support/config_builder.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Exec;
using testing::Rows;

class SourceFailoverTest : public testing::TwoServerTest {
 protected:
  SourceFailoverTest() : TwoServerTest("fo") {}

  void SetUp() override {
    TwoServerTest::SetUp();
    // The primary and its replica; both log what they apply, as replicas kept for failover do.
    for (uint32_t id : {71u, 72u}) {
      harness::ServerOptions o;
      o.server_id = id;
      o.region = "region-1";
      o.extra_args = {"--log-slave-updates", "--gtid-strict-mode=0"};
      auto server = harness::MariaDbServer::Start(o);
      ASSERT_TRUE(server.ok()) << server.status();
      (id == 71 ? primary_ : replica_) = std::move(*server);
    }
    auto r = replica_->Connect();
    ASSERT_TRUE(r.ok()) << r.status();
    Exec(r->get(), absl::StrCat("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=", primary_->port(),
                                ", MASTER_USER='", harness::MariaDbServer::kUser, "', MASTER_PASSWORD='",
                                harness::MariaDbServer::kPassword, "', MASTER_USE_GTID=slave_pos; START SLAVE"));
    const std::string table = "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL);"
                              "CREATE TABLE c (id INT PRIMARY KEY, n INT NOT NULL)";
    auto p = primary_->Connect();
    ASSERT_TRUE(p.ok()) << p.status();
    Exec(p->get(), absl::StrCat("CREATE DATABASE ", db_, "; USE ", db_, ";", table, "; INSERT INTO c VALUES (1, 0)"));
    Exec(b_.get(), absl::StrCat("USE ", db_, ";", table, "; INSERT INTO c VALUES (1, 0)"));
    ASSERT_TRUE(WaitReplicaCaughtUp());
    p_ = testing::Connect(*primary_, db_);
    r_ = testing::Connect(*replica_, db_);
    ASSERT_TRUE(p_ != nullptr && r_ != nullptr);
  }

  std::string ConfigFrom(const harness::MariaDbServer& source) {
    return Config().EndpointA(source.EndpointJson()).Import(db_ + ".t|" + db_ + ".c").Json();
  }

  // One transaction: a row of its own and the counter of transactions written.
  static void Write(SqlConnection* conn, const std::string& db, int id) {
    Exec(conn, absl::StrCat("USE ", db, "; BEGIN; INSERT INTO t VALUES (", id, ", ", id,
                            "); UPDATE c SET n = n + 1; COMMIT"));
  }

  bool WaitReplicaCaughtUp() {
    auto p = primary_->Connect();
    auto r = replica_->Connect();
    if (!p.ok() || !r.ok()) return false;
    const std::string end = Rows(p->get(), "SELECT @@gtid_binlog_pos")[0];
    return testing::WaitFor([&] { return Rows(r->get(), "SELECT @@gtid_slave_pos")[0] == end; },
                            absl::Seconds(30));
  }

  void FailOverToTheLaggingReplica(bool same_domain);

  // The project follows the primary; the replica has its first `shared` transactions, then stops
  // replicating while the primary writes `ahead` more, which reach B only.
  void LinkAheadOfTheReplica(const std::string& config, int shared, int ahead) {
    StartProject(config);
    for (int id = 1; id <= shared; ++id) Write(p_.get(), db_, id);
    ASSERT_TRUE(WaitReplicaCaughtUp());
    Exec(r_.get(), "STOP SLAVE");
    for (int id = shared + 1; id <= shared + ahead; ++id) Write(p_.get(), db_, id);
    const std::string all = std::to_string(shared + ahead);
    ASSERT_TRUE(testing::WaitFor(
        [&] { return Rows(b_.get(), absl::StrCat("SELECT n FROM ", db_, ".c"))[0] == all; }, absl::Seconds(30)))
        << project_->StatusJson();
  }

  // Failover: the project stops, the primary dies and the replica is promoted.
  void PromoteTheReplica() {
    ASSERT_TRUE(project_->Stop().ok());
    project_.reset();
    p_.reset();
    ASSERT_TRUE(primary_->Kill().ok());
    Exec(r_.get(), "RESET SLAVE ALL");
  }

  std::unique_ptr<harness::MariaDbServer> primary_, replica_;
  std::unique_ptr<SqlConnection> p_, r_;  // to db_ on each
};

// `same_domain`: the promoted replica writes in the old primary's replication domain, reusing
// its sequence numbers (servers that share one domain); else in its own (a domain per server).
void SourceFailoverTest::FailOverToTheLaggingReplica(bool same_domain) {
  SqlConnection* r = r_.get();
  // The replica falls behind: the primary's last 30 transactions reach B only.
  LinkAheadOfTheReplica(ConfigFrom(*primary_), 30, 30);
  if (HasFatalFailure()) return;
  const std::string primary_end = Rows(p_.get(), "SELECT @@gtid_binlog_pos")[0];

  // Failover: the primary dies, the replica is promoted and takes writes; the project is pointed
  // at it (same project, same checkpoint on B).
  PromoteTheReplica();
  if (HasFatalFailure()) return;
  if (same_domain) {
    const std::string domain = Rows(r, absl::StrCat("SELECT @@gtid_domain_id + 0 FROM DUAL"))[0];
    Exec(r, absl::StrCat("SET GLOBAL gtid_domain_id = ", primary_->server_id(), ";"
                                "SET SESSION gtid_domain_id = ", primary_->server_id()));
    ASSERT_NE(domain, std::to_string(primary_->server_id()));
  }
  for (int id = 1001; id <= 1040; ++id) Write(r, db_, id);
  const std::string replica_end = Rows(r, "SELECT @@gtid_binlog_pos")[0];
  ASSERT_NE(replica_end, primary_end);
  if (same_domain) {  // the same domain and sequence numbers, another server
    ASSERT_EQ(replica_end.substr(0, replica_end.find('-')), primary_end.substr(0, primary_end.find('-')));
  }
  StartProject(ConfigFrom(*replica_));
  Write(r, db_, 1041);

  // Every transaction of the new primary arrives once; what only the old primary had stays on B.
  ASSERT_TRUE(testing::WaitFor(
      [&] { return Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t WHERE id > 1000"))[0] == "41"; },
      absl::Seconds(30)))
      << project_->StatusJson();
  // The counter is the new primary's (rows carry values, not increments).
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT n FROM ", db_, ".c"))[0], Rows(r, "SELECT n FROM c")[0]);
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t"))[0], "101");
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT * FROM ", db_, ".t WHERE id > 1000 ORDER BY id")),
            Rows(r, "SELECT * FROM t WHERE id > 1000 ORDER BY id"));
}

TEST_F(SourceFailoverTest, ALaggingReplicaPromotedInTheSameDomain) {
  FailOverToTheLaggingReplica(/*same_domain=*/true);
}

TEST_F(SourceFailoverTest, ALaggingReplicaPromotedInItsOwnDomain) {
  FailOverToTheLaggingReplica(/*same_domain=*/false);
}

// The link is pointed at a replica that lags behind what it applied, and the replica then catches
// up: the transactions of the old primary it brings that were applied already are passed over,
// the later ones applied, each once.
TEST_F(SourceFailoverTest, AReplicaThatCatchesUpAfterTheLinkMovedToItDoublesNothing) {
  SqlConnection* p = p_.get();
  SqlConnection* r = r_.get();
  LinkAheadOfTheReplica(ConfigFrom(*primary_), 30, 30);
  if (HasFatalFailure()) return;
  ASSERT_TRUE(project_->Stop().ok());
  project_.reset();
  StartProject(ConfigFrom(*replica_));
  for (int id = 61; id <= 70; ++id) Write(p, db_, id);
  Exec(r, "START SLAVE");
  ASSERT_TRUE(WaitReplicaCaughtUp());
  testing::ExpectSameEventually(p, b_.get(), {absl::StrCat("SELECT * FROM ", db_, ".t ORDER BY id"),
                                                     absl::StrCat("SELECT * FROM ", db_, ".c")});
  // Ten new transactions since the move: the thirty the replica brought again were not applied.
  const std::string end = Rows(p, "SELECT @@gtid_binlog_pos")[0];
  EXPECT_TRUE(testing::WaitFor(
      [&] { return testing::LinkStatusOf(*project_).position().find(end) != std::string::npos; }, absl::Seconds(30)))
      << end << " " << project_->StatusJson();
  EXPECT_EQ(testing::LinkStatusOf(*project_).transactions_applied(), 10u) << project_->StatusJson();
}

// A link that keeps a record store cannot follow such a failover yet: it stops saying so (its
// store orders a domain's transactions by sequence number and would pass the new ones over).
TEST_F(SourceFailoverTest, ALinkWithARecordStoreStopsAtAFailoverItCannotFollow) {
  char dir[] = "/tmp/duosync-failover-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  auto config = [&](const harness::MariaDbServer& source) {
    return Config().EndpointA(source.EndpointJson()).Import(db_ + ".t|" + db_ + ".c").RecordStores(dir).Json();
  };
  LinkAheadOfTheReplica(config(*primary_), 1, 1);
  if (HasFatalFailure()) return;
  PromoteTheReplica();
  if (HasFatalFailure()) return;
  Write(r_.get(), db_, 1001);
  StartProject(config(*replica_));
  absl::Status s = project_->Wait(absl::Seconds(30));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_NE(std::string(s.message()).find("record store cannot follow"), std::string::npos) << s;
  EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".t WHERE id > 1000"))[0], "0");
  project_.reset();
  std::system(absl::StrCat("rm -rf ", dir).c_str());
}

}  // namespace
}  // namespace duosync
