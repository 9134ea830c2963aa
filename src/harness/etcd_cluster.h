// A real etcd cluster for tests: Debian's etcd (v3), `members` members on free loopback ports in a
// temp dir, killed with the process that started them (PR_SET_PDEATHSIG); the dir is removed when
// the object goes away.
#ifndef DUOSYNC_SRC_HARNESS_ETCD_CLUSTER_H_
#define DUOSYNC_SRC_HARNESS_ETCD_CLUSTER_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace duosync::harness {

// Client TLS for the members: https client URLs, a server certificate, and (with client_ca)
// client certificates required. The client files are what the harness itself connects with.
struct EtcdTls {
  std::string server_cert, server_key;
  std::string client_ca;                // empty: no client certificate asked for
  std::string ca;                       // signed server_cert
  std::string client_cert, client_key;  // signed by client_ca
};

class EtcdCluster {
 public:
  // Starts the members and returns once the cluster answers (a leader is elected).
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> Start(int members = 3, const EtcdTls* tls = nullptr);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // "http(s)://127.0.0.1:PORT" per member.
  std::vector<std::string> ClientUrls() const;
  std::vector<unsigned> ClientPorts() const;

 private:
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> StartOnce(int members, const EtcdTls* tls);
  struct Member {
    std::string name;
    unsigned client_port = 0, peer_port = 0;
    pid_t pid = -1;
  };
  EtcdCluster() = default;
  absl::Status Launch(const Member& m, const std::string& initial_cluster, pid_t* pid);

  std::string dir_;
  std::vector<Member> members_;
  std::optional<EtcdTls> tls_;
};

}  // namespace duosync::harness

#endif  // DUOSYNC_SRC_HARNESS_ETCD_CLUSTER_H_
