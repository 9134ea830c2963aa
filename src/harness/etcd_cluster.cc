#include "harness/etcd_cluster.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "coord/etcd_client.h"
#include "harness/child_process.h"

namespace duosync::harness {

absl::Status EtcdCluster::Launch(const Member& m, const std::string& initial_cluster, pid_t* pid) {
  const std::string peer = absl::StrCat("http://127.0.0.1:", m.peer_port);
  const std::string client = absl::StrCat(tls_ ? "https" : "http", "://127.0.0.1:", m.client_port);
  std::vector<std::string> argv = {"/usr/bin/etcd",
                                   "--name=" + m.name,
                                   "--data-dir=" + dir_ + "/" + m.name,
                                   "--listen-peer-urls=" + peer,
                                   "--initial-advertise-peer-urls=" + peer,
                                   "--listen-client-urls=" + client,
                                   "--advertise-client-urls=" + client,
                                   "--initial-cluster=" + initial_cluster,
                                   "--initial-cluster-state=new",
                                   "--initial-cluster-token=" + dir_,
                                   "--logger=zap",
                                   "--log-outputs=stderr"};
  if (tls_) {
    argv.push_back("--cert-file=" + tls_->server_cert);
    argv.push_back("--key-file=" + tls_->server_key);
    if (!tls_->client_ca.empty()) {
      argv.push_back("--client-cert-auth");
      argv.push_back("--trusted-ca-file=" + tls_->client_ca);
    }
  }
  const pid_t child = fork();
  if (child < 0) return absl::InternalError("fork failed");
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the test
    setpgid(0, 0);
    ExecLogged(argv, dir_ + "/" + m.name + ".log");
  }
  *pid = child;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(int members, const EtcdTls* tls) {
  // Ports are picked free and bound by etcd a moment later: another process (a second test shard)
  // may take one meanwhile, and that member exits. Fresh ports are tried then.
  absl::Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto cluster = StartOnce(members, tls);
    if (cluster.ok() || !absl::IsUnavailable(cluster.status())) return cluster;
    last = cluster.status();
  }
  return last;
}

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::StartOnce(int members, const EtcdTls* tls) {
  if (access("/usr/bin/etcd", X_OK) != 0) {
    return absl::FailedPreconditionError("etcd is not installed (/usr/bin/etcd): run scripts/bootstrap");
  }
  std::unique_ptr<EtcdCluster> cluster(new EtcdCluster());
  std::string templ = (std::filesystem::temp_directory_path() / "duosync-etcd-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  cluster->dir_ = templ;
  if (tls != nullptr) cluster->tls_ = *tls;
  std::vector<std::string> initial;
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = absl::StrCat("m", i + 1);
    m.client_port = PickFreePort();
    m.peer_port = PickFreePort();
    initial.push_back(absl::StrCat(m.name, "=http://127.0.0.1:", m.peer_port));
    cluster->members_.push_back(m);
  }
  const std::string initial_cluster = absl::StrJoin(initial, ",");
  for (Member& m : cluster->members_) {
    absl::Status s = cluster->Launch(m, initial_cluster, &m.pid);
    if (!s.ok()) return s;
  }
  EtcdOptions options;
  options.endpoints = cluster->ClientUrls();
  if (tls != nullptr) {
    options.ca_file = tls->ca;
    options.cert_file = tls->client_cert;
    options.key_file = tls->client_key;
  }
  auto client = EtcdClient::Create(options);
  if (!client.ok()) return client.status();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    for (const Member& m : cluster->members_) {
      int status = 0;
      if (waitpid(m.pid, &status, WNOHANG) == m.pid) {
        return absl::UnavailableError(absl::StrCat("etcd member ", m.name, " exited during startup:\n",
                                                   Tail(cluster->dir_ + "/" + m.name + ".log", 2000)));
      }
    }
    // A write needs a leader and a quorum: the cluster is formed.
    if ((*client)->Put("/duosync-harness/ready", "1", 0).ok()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("etcd did not form a cluster in 60 s:\n",
                                                      Tail(cluster->dir_ + "/m1.log", 2000)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cluster;
}

EtcdCluster::~EtcdCluster() {
  for (Member& m : members_) {
    if (m.pid > 0) {
      kill(m.pid, SIGKILL);
      waitpid(m.pid, nullptr, 0);
    }
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> EtcdCluster::ClientUrls() const {
  std::vector<std::string> out;
  for (const Member& m : members_) {
    out.push_back(absl::StrCat(tls_ ? "https" : "http", "://127.0.0.1:", m.client_port));
  }
  return out;
}

std::vector<unsigned> EtcdCluster::ClientPorts() const {
  std::vector<unsigned> out;
  for (const Member& m : members_) out.push_back(m.client_port);
  return out;
}

}  // namespace duosync::harness
