// Coordinated mode against a real 3-member etcd cluster (started here on loopback) and the
// harness's MariaDB servers: three `duosync run` processes serve one active-active project under
// two-way load while link owners are killed, frozen and cut from etcd. Each region counts its own
// transactions in a counter row, so a transaction lost or applied twice shows at the end.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "coord/etcd_client.h"
#include "duosync/project.h"
#include "harness/delay_proxy.h"
#include "harness/etcd_cluster.h"
#include "harness/test_certificates.h"
#include "integration/cli_process.h"
#include "support/test_support.h"

namespace duosync {
namespace {

using testing::Connect;
using testing::Exec;
using testing::Rows;
using testing::ServerPair;

harness::EtcdCluster* g_etcd = nullptr;

class CoordinationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cluster = harness::EtcdCluster::Start(3);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    g_etcd = cluster->release();
  }
  static void TearDownTestSuite() {
    delete g_etcd;
    g_etcd = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(g_etcd, nullptr);
    setenv("GLOG_minloglevel", "0", 1);  // the processes' logs show takeovers too
    db_ = testing::TestDatabase("co_");
    a_ = Connect(ServerPair::A());
    b_ = Connect(ServerPair::B());
    for (SqlConnection* c : {a_.get(), b_.get()}) {
      testing::ResetDatabase(c, db_,
                             "CREATE TABLE counter (region CHAR(1) PRIMARY KEY, n BIGINT NOT NULL);"
                             "CREATE TABLE log (seq INT PRIMARY KEY, region CHAR(1), at DATETIME(6));"
                             "INSERT INTO counter VALUES ('A', 0), ('B', 0)");
    }
    char dir[] = "/tmp/duosync-coord-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
  }

  void TearDown() override {
    StopWriters();
    for (pid_t pid : pids_) {
      if (pid <= 0) continue;
      kill(pid, SIGCONT);
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
    proxies_.clear();
    std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }

  // Process i's config: the cluster's endpoints, or (proxied) its own cuttable proxies to them.
  std::string WriteConfig(int i, bool proxied) {
    testing::ConfigBuilder config(db_);
    config.Whitelist(db_ + ".*").ActiveActive(R"({"conflicts": {"policy": "REGION_PRIORITY"}})");
    config::Coordination* c = config.mutable_proto()->mutable_coordination();
    c->set_lease_ttl_seconds(3);
    c->set_key_prefix("/duosync-test");
    if (proxied) {
      proxies_.resize(std::max<size_t>(proxies_.size(), i + 1));
      for (unsigned port : g_etcd->ClientPorts()) {
        auto proxy = harness::DelayProxy::Start("127.0.0.1", port, absl::ZeroDuration());
        EXPECT_TRUE(proxy.ok()) << proxy.status();
        c->add_etcd_endpoints(absl::StrCat("http://127.0.0.1:", (*proxy)->port()));
        proxies_[i].push_back(*std::move(proxy));
      }
    } else {
      for (const std::string& url : g_etcd->ClientUrls()) c->add_etcd_endpoints(url);
    }
    const std::string path = absl::StrCat(dir_, "/project", i, ".json");
    std::ofstream(path) << config.Json();
    return path;
  }

  void StartProcesses(int n, bool proxied = false) {
    for (int i = 0; i < n; ++i) {
      configs_.push_back(WriteConfig(i, proxied));
      pids_.push_back(testing::StartCliRun(configs_[i], Log(i)));
    }
  }
  std::string Log(int i) const { return absl::StrCat(dir_, "/process", i, ".log"); }
  void Restart(int i) { pids_[i] = testing::StartCliRun(configs_[i], Log(i)); }

  // The link's owner on its destination: (epoch, "host:pid#n"), or (0, "") before any.
  std::pair<uint64_t, std::string> Owner(const std::string& link) {
    SqlConnection* destination = link == "forward" ? b_.get() : a_.get();
    auto rows = destination->Query(
        absl::StrCat("SELECT epoch, owner FROM duosync.owner WHERE link_id='", db_, "/", link, "'"));
    uint64_t epoch = 0;
    if (!rows.ok() || rows->empty() || !absl::SimpleAtoi((*rows)[0][0].value_or(""), &epoch)) return {0, ""};
    return {epoch, (*rows)[0][1].value_or("")};
  }
  static pid_t PidOf(const std::string& owner) {
    const size_t colon = owner.rfind(':'), hash = owner.rfind('#');
    int pid = 0;
    if (colon == std::string::npos || hash == std::string::npos ||
        !absl::SimpleAtoi(owner.substr(colon + 1, hash - colon - 1), &pid)) {
      return -1;
    }
    return pid;
  }
  int IndexOf(pid_t pid) const {
    auto it = std::find(pids_.begin(), pids_.end(), pid);
    return it == pids_.end() ? -1 : static_cast<int>(it - pids_.begin());
  }

  // Both links owned by live processes and applying (each region's latest write arrived).
  bool BothLinksRun() {
    return IndexOf(PidOf(Owner("forward").second)) >= 0 && IndexOf(PidOf(Owner("reverse").second)) >= 0;
  }

  void StartWriters() {
    for (int r = 0; r < 2; ++r) {
      writers_.emplace_back([this, r] {
        auto w = Connect(r == 0 ? ServerPair::A() : ServerPair::B(), db_);
        const std::string region = r == 0 ? "A" : "B";
        for (int i = 1; !stop_writers_; ++i) {
          Exec(w.get(), absl::StrCat("BEGIN; UPDATE counter SET n = n + 1 WHERE region = '", region,
                                     "'; INSERT INTO log VALUES (", r * 10000000 + i, ", '", region,
                                     "', NOW(6)); COMMIT"));
          written_[r] = i;
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      });
    }
  }
  void StopWriters() {
    stop_writers_ = true;
    for (auto& t : writers_) t.join();
    writers_.clear();
  }

  // Stops the writers, waits until both regions are identical, and checks every transaction
  // arrived once.
  void ExpectConvergedExactlyOnce() {
    StopWriters();
    testing::ExpectSameEventually(a_.get(), b_.get(),
                                  {absl::StrCat("SELECT * FROM ", db_, ".counter ORDER BY 1"),
                                   absl::StrCat("SELECT * FROM ", db_, ".log ORDER BY 1")},
                                  90);
    EXPECT_EQ(Rows(a_.get(), absl::StrCat("SELECT n FROM ", db_, ".counter ORDER BY region")),
              (std::vector<std::string>{std::to_string(written_[0]), std::to_string(written_[1])}));
    EXPECT_EQ(Rows(b_.get(), absl::StrCat("SELECT COUNT(*) FROM ", db_, ".log"))[0],
              std::to_string(written_[0] + written_[1]));
    // Row images hide a transaction applied twice (the same after-image, a duplicate insert
    // resolved as a conflict); the regions write disjoint rows, so any conflict is a double.
    for (SqlConnection* c : {a_.get(), b_.get()}) {
      auto conflicts = c->Query(absl::StrCat("SELECT COUNT(*) FROM duosync.conflicts WHERE link_id LIKE '", db_, "/%'"));
      ASSERT_TRUE(conflicts.ok()) << conflicts.status();
      EXPECT_EQ((*conflicts)[0][0].value_or(""), "0") << "a transaction was applied twice";
    }
  }

  std::string LogText(int i) const {
    std::ifstream in(Log(i));
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  std::string db_, dir_;
  std::unique_ptr<SqlConnection> a_, b_;
  std::vector<std::string> configs_;
  std::vector<pid_t> pids_;
  std::vector<std::vector<std::unique_ptr<harness::DelayProxy>>> proxies_;
  std::vector<std::thread> writers_;
  std::atomic<bool> stop_writers_{false};
  std::atomic<int> written_[2] = {0, 0};
};

TEST_F(CoordinationTest, TheEtcdClientHoldsKeysUnderLeasesThatExpire) {
  EtcdOptions options;
  options.endpoints = g_etcd->ClientUrls();
  auto client = EtcdClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  EtcdClient& etcd = **client;
  const std::string key = absl::StrCat("/duosync-test/client/", db_);
  auto lease = etcd.GrantLease(2);
  ASSERT_TRUE(lease.ok()) << lease.status();
  auto created = etcd.CreateIfAbsent(key, "first", *lease);
  ASSERT_TRUE(created.ok() && *created) << created.status();
  auto again = etcd.CreateIfAbsent(key, "second", *lease);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again) << "a key that exists is not taken again";
  EXPECT_TRUE(etcd.DeleteIfValue(key, "second").ok());
  auto read = etcd.ReadPrefix("/duosync-test/client/");
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 1u) << "a release with another value must not remove the key";
  EXPECT_EQ((*read)[0].value, "first");
  EXPECT_EQ((*read)[0].lease, *lease);
  EXPECT_TRUE(etcd.KeepAlive(*lease).ok());
  // Unrenewed, the lease expires and takes the key with it (etcd may extend it over a leader
  // change, so wait for it rather than for a fixed time).
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_TRUE(testing::WaitFor([&] { return absl::IsNotFound(etcd.TimeToLive(*lease).status()); },
                               absl::Seconds(30), absl::Milliseconds(200)));
  EXPECT_TRUE(absl::IsNotFound(etcd.KeepAlive(*lease)));
  read = etcd.ReadPrefix("/duosync-test/client/");
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->empty());
  // A member that is gone (refused) or partitioned (silent) costs a timeout, not the call.
  auto silent = harness::DelayProxy::Start("127.0.0.1", g_etcd->ClientPorts()[0], absl::ZeroDuration());
  ASSERT_TRUE(silent.ok());
  (*silent)->Cut(true);
  options.endpoints.insert(options.endpoints.begin(),
                           {"http://127.0.0.1:1", absl::StrCat("http://127.0.0.1:", (*silent)->port())});
  auto with_dead = EtcdClient::Create(options);
  ASSERT_TRUE(with_dead.ok());
  EXPECT_TRUE((*with_dead)->ReadPrefix("/duosync-test/").ok());
  EXPECT_TRUE((*with_dead)->ReadPrefix("/duosync-test/").ok());  // from the member that answered
  // Bad endpoints are refused up front.
  options.endpoints = {"127.0.0.1:2379"};
  EXPECT_FALSE(EtcdClient::Create(options).ok());
}

// Precheck says whether etcd answers; Start refuses to run without it, naming the endpoints.
TEST_F(CoordinationTest, PrecheckAndStartNeedEtcd) {
  testing::ConfigBuilder config(db_);
  config.Whitelist(db_ + ".*");
  config::Coordination* c = config.mutable_proto()->mutable_coordination();
  for (const std::string& url : g_etcd->ClientUrls()) c->add_etcd_endpoints(url);
  auto project = Project::Create(config.Json());
  ASSERT_TRUE(project.ok()) << project.status();
  bool ok = false;
  std::string report = (*project)->Precheck(&ok);
  EXPECT_TRUE(ok) << report;
  EXPECT_NE(report.find("etcd answers at"), std::string::npos) << report;

  c->clear_etcd_endpoints();
  c->add_etcd_endpoints("http://127.0.0.1:1");
  project = Project::Create(config.Json());
  ASSERT_TRUE(project.ok()) << project.status();
  report = (*project)->Precheck(&ok);
  EXPECT_FALSE(ok);
  EXPECT_NE(report.find("\"name\":\"coordination\""), std::string::npos) << report;
  // Operations that start or stop links by hand would race the coordinator: refused.
  EXPECT_TRUE(absl::IsFailedPrecondition((*project)->Replay("forward", "@0").status()));
  bool equal = false;
  auto repair = (*project)->Verify(/*repair=*/true, &equal);
  EXPECT_TRUE(absl::IsFailedPrecondition(repair.status())) << repair.status();
  EXPECT_NE(repair.status().message().find("coordinated mode"), absl::string_view::npos) << repair.status();
  absl::Status started = (*project)->Start();
  EXPECT_TRUE(absl::IsUnavailable(started)) << started;
  EXPECT_NE(started.message().find("http://127.0.0.1:1"), absl::string_view::npos) << started;
}

// The owner of a link is killed -9 ten times under two-way load: each time another process takes
// it over (the time without an owner is printed), and at the end both regions are identical with
// every transaction applied once.
TEST_F(CoordinationTest, ThreeProcessesTakeOverFromKilledOwnersAndLoseOrDoubleNothing) {
  StartProcesses(3);
  ASSERT_TRUE(testing::WaitFor([&] { return BothLinksRun(); }, absl::Seconds(60)))
      << "the links were not taken; process 0's log:\n" << LogText(0);
  StartWriters();
  std::vector<double> unowned;
  for (int kill_number = 0; kill_number < 10; ++kill_number) {
    const std::string link = kill_number % 2 == 0 ? "forward" : "reverse";
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // load in flight
    const auto [epoch, owner] = Owner(link);
    const int victim = IndexOf(PidOf(owner));
    ASSERT_GE(victim, 0) << "the " << link << " link is owned by " << owner << ", not one of ours";
    kill(pids_[victim], SIGKILL);
    waitpid(pids_[victim], nullptr, 0);
    const auto killed_at = std::chrono::steady_clock::now();
    ASSERT_TRUE(testing::WaitFor([&, e = epoch] { return Owner(link).first > e; }, absl::Seconds(60),
                                 absl::Milliseconds(10)))
        << "nobody took the " << link << " link over after kill " << kill_number + 1;
    unowned.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count());
    if (unowned.back() > 6) {  // well above the lease: show what the processes were doing
      std::cout << "[ slow     ] takeover " << kill_number + 1 << " took " << unowned.back() << " s\n";
      for (int i = 0; i < 3; ++i) {
        const std::string log = LogText(i);
        std::cout << "--- process " << i << " ---\n" << log.substr(log.size() > 3000 ? log.size() - 3000 : 0) << "\n";
      }
    }
    const int taker = IndexOf(PidOf(Owner(link).second));
    EXPECT_GE(taker, 0);
    EXPECT_NE(taker, victim);
    Restart(victim);  // the host comes back
  }
  ExpectConvergedExactlyOnce();
  // etcd and the destinations agree on who owns each link.
  EtcdOptions options;
  options.endpoints = g_etcd->ClientUrls();
  auto etcd = EtcdClient::Create(options);
  ASSERT_TRUE(etcd.ok());
  auto keys = (*etcd)->ReadPrefix(absl::StrCat("/duosync-test/owners/", db_, "/"));
  ASSERT_TRUE(keys.ok()) << keys.status();
  for (const EtcdKeyValue& kv : *keys) {
    const std::string link = kv.key.substr(kv.key.rfind('/') + 1);
    const std::string pid = kv.value.substr(kv.value.rfind(':') + 1, kv.value.rfind('/') - kv.value.rfind(':') - 1);
    EXPECT_EQ(pid, std::to_string(PidOf(Owner(link).second))) << link << " owned by " << kv.value;
  }
  EXPECT_EQ(keys->size(), 2u);
  std::sort(unowned.begin(), unowned.end());
  std::cout << "[ figures  ] time without an owner after kill -9 (3 s lease), seconds: "
            << absl::StrJoin(unowned, " ", [](std::string* out, double d) { absl::StrAppendFormat(out, "%.2f", d); })
            << std::endl;
  std::cout << absl::StrFormat("[ figures  ] median %.2f s, max %.2f s over %d kills", unowned[unowned.size() / 2],
                               unowned.back(), unowned.size())
            << std::endl;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(LogText(i).find(" failed:"), std::string::npos) << LogText(i);
}

// Two processes: the two links spread over both; when one dies the other runs both; when it
// returns, one link moves back to it (once it has been a member for a few seconds).
TEST_F(CoordinationTest, LinksSpreadOverProcessesAndMoveBackWhenOneReturns) {
  StartProcesses(2);
  auto spread = [&] {
    const int forward = IndexOf(PidOf(Owner("forward").second));
    const int reverse = IndexOf(PidOf(Owner("reverse").second));
    return forward >= 0 && reverse >= 0 && forward != reverse;
  };
  ASSERT_TRUE(testing::WaitFor(spread, absl::Seconds(60))) << LogText(0) << LogText(1);
  StartWriters();
  const auto [epoch, owner] = Owner("forward");
  const int victim = IndexOf(PidOf(owner));
  const int survivor = 1 - victim;
  kill(pids_[victim], SIGKILL);
  waitpid(pids_[victim], nullptr, 0);
  ASSERT_TRUE(testing::WaitFor([&, e = epoch] { return Owner("forward").first > e; }, absl::Seconds(60)));
  EXPECT_EQ(IndexOf(PidOf(Owner("forward").second)), survivor);
  EXPECT_EQ(IndexOf(PidOf(Owner("reverse").second)), survivor);
  Restart(victim);
  EXPECT_TRUE(testing::WaitFor(spread, absl::Seconds(60))) << "no link moved back:\n" << LogText(victim);
  ExpectConvergedExactlyOnce();
}

// An owner frozen past its lease (SIGSTOP) is replaced; when it wakes, whatever it was writing is
// refused (its open transaction was ended by the takeover, the fence refuses the rest) and it
// goes on as a standby member.
TEST_F(CoordinationTest, AFrozenOwnerIsReplacedAndItsPendingWritesAreRefused) {
  StartProcesses(3);
  ASSERT_TRUE(testing::WaitFor([&] { return BothLinksRun(); }, absl::Seconds(60))) << LogText(0);
  StartWriters();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto [epoch, owner] = Owner("forward");
  const int frozen = IndexOf(PidOf(owner));
  ASSERT_GE(frozen, 0);
  kill(pids_[frozen], SIGSTOP);
  ASSERT_TRUE(testing::WaitFor([&, e = epoch] { return Owner("forward").first > e; }, absl::Seconds(60)))
      << "nobody took the forward link over from the frozen owner";
  std::this_thread::sleep_for(std::chrono::seconds(2));
  kill(pids_[frozen], SIGCONT);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_NE(IndexOf(PidOf(Owner("forward").second)), frozen);
  int status = 0;
  EXPECT_EQ(waitpid(pids_[frozen], &status, WNOHANG), 0) << "the resumed process exited:\n" << LogText(frozen);
  ExpectConvergedExactlyOnce();
}

// An owner cut from etcd (but not from the databases) stops applying by itself before its lease
// can expire; another takes over; when etcd is back it rejoins as a member.
TEST_F(CoordinationTest, AnOwnerCutFromEtcdStopsItselfAndAnotherTakesOver) {
  StartProcesses(3, /*proxied=*/true);
  ASSERT_TRUE(testing::WaitFor([&] { return BothLinksRun(); }, absl::Seconds(60))) << LogText(0);
  StartWriters();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto [epoch, owner] = Owner("forward");
  const int cut = IndexOf(PidOf(owner));
  ASSERT_GE(cut, 0);
  for (auto& proxy : proxies_[cut]) proxy->Cut(true);
  ASSERT_TRUE(testing::WaitFor([&, e = epoch] { return Owner("forward").first > e; }, absl::Seconds(60)))
      << "nobody took the forward link over from the cut owner";
  EXPECT_NE(IndexOf(PidOf(Owner("forward").second)), cut);
  const std::string log = LogText(cut);
  EXPECT_NE(log.find("cannot renew its lease; stopping the forward link"), std::string::npos) << log;
  EXPECT_EQ(log.find("taken over by"), std::string::npos) << "it stopped only when fenced:\n" << log;
  for (auto& proxy : proxies_[cut]) proxy->Cut(false);
  EXPECT_TRUE(testing::WaitFor([&] { return LogText(cut).find("registered again") != std::string::npos; },
                               absl::Seconds(30)))
      << LogText(cut);
  ExpectConvergedExactlyOnce();
}

}  // namespace
}  // namespace duosync

namespace duosync {
namespace {

// etcd over TLS with client certificates and password authentication: the client signs in,
// refuses a wrong password without echoing it, and a coordinated project prechecks through it.
TEST(CoordinationTlsTest, TlsClientCertificatesAndPasswordsWork) {
  auto certs = harness::TestCertificates::Make();
  ASSERT_TRUE(certs.ok()) << certs.status();
  const std::string dir = certs->dir;
  harness::EtcdTls tls;
  tls.server_cert = certs->server_cert;
  tls.server_key = certs->server_key;
  tls.client_ca = tls.ca = certs->ca;
  tls.client_cert = certs->client_cert;
  tls.client_key = certs->client_key;
  auto cluster = harness::EtcdCluster::Start(1, &tls);
  ASSERT_TRUE(cluster.ok()) << cluster.status();

  EtcdOptions options;
  options.endpoints = (*cluster)->ClientUrls();
  options.ca_file = tls.ca;
  options.cert_file = tls.client_cert;
  options.key_file = tls.client_key;
  {  // Turn authentication on: a root user with the root role.
    auto admin = EtcdClient::Create(options);
    ASSERT_TRUE(admin.ok());
    for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
             {"/v3/auth/role/add", R"({"name":"root"})"},
             {"/v3/auth/user/add", R"({"name":"root","password":"etcd-root-secret"})"},
             {"/v3/auth/user/grant", R"({"user":"root","role":"root"})"},
             {"/v3/auth/enable", "{}"}}) {
      auto reply = (*admin)->Call(path, body);
      ASSERT_TRUE(reply.ok()) << path << ": " << reply.status();
    }
  }
  options.user = "root";
  options.password = "etcd-root-secret";
  auto signed_in = EtcdClient::Create(options);
  ASSERT_TRUE(signed_in.ok());
  auto lease = (*signed_in)->GrantLease(5);
  ASSERT_TRUE(lease.ok()) << lease.status();
  auto created = (*signed_in)->CreateIfAbsent("/duosync-tls/k", "v", *lease);
  ASSERT_TRUE(created.ok() && *created) << created.status();

  options.password = "not-the-right-one";
  auto wrong = EtcdClient::Create(options);
  ASSERT_TRUE(wrong.ok());
  auto refused = (*wrong)->ReadPrefix("/duosync-tls/");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("authentication failed"), absl::string_view::npos) << refused.status();
  EXPECT_EQ(refused.status().message().find("not-the-right-one"), absl::string_view::npos);

  options.password = "etcd-root-secret";
  options.cert_file = certs->client_cn_cert;
  options.key_file = certs->client_cn_key;
  auto with_cn = EtcdClient::Create(options);
  ASSERT_TRUE(with_cn.ok());
  auto cn_refused = (*with_cn)->ReadPrefix("/duosync-tls/");
  EXPECT_TRUE(absl::IsFailedPrecondition(cn_refused.status())) << cn_refused.status();
  EXPECT_NE(cn_refused.status().message().find("without one"), absl::string_view::npos) << cn_refused.status();

  options.cert_file = options.key_file = "";
  auto no_certificate = EtcdClient::Create(options);
  ASSERT_TRUE(no_certificate.ok());
  EXPECT_FALSE((*no_certificate)->ReadPrefix("/duosync-tls/").ok()) << "etcd asks for a client certificate";

  // The same through a project's config, the password from the environment.
  setenv("DUOSYNC_TEST_ETCD_PASSWORD", "etcd-root-secret", 1);
  testing::ConfigBuilder config("co_tls");
  config.Whitelist("co_tls.*");
  config::Coordination* c = config.mutable_proto()->mutable_coordination();
  for (const std::string& url : (*cluster)->ClientUrls()) c->add_etcd_endpoints(url);
  c->mutable_tls()->set_ca(tls.ca);
  c->mutable_tls()->set_cert(tls.client_cert);
  c->mutable_tls()->set_key(tls.client_key);
  c->set_user("root");
  c->set_password_env("DUOSYNC_TEST_ETCD_PASSWORD");
  auto project = Project::Create(config.Json());
  ASSERT_TRUE(project.ok()) << project.status();
  bool ok = false;
  const std::string report = (*project)->Precheck(&ok);
  EXPECT_NE(report.find("etcd answers at https://"), std::string::npos) << report;
  EXPECT_EQ(report.find("etcd-root-secret"), std::string::npos);
  unsetenv("DUOSYNC_TEST_ETCD_PASSWORD");
  std::system(absl::StrCat("rm -rf ", dir).c_str());
}

}  // namespace
}  // namespace duosync
