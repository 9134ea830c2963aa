// Real MariaDB servers for tests, benchmarks and the demo: Debian's mariadbd in a temp data dir on a
// free loopback port, running as root, binlog in ROW format with FULL row images, its own server id.
// The server dies with the process that started it (PR_SET_PDEATHSIG) and its directory is removed
// when the object goes away.
#ifndef DUOSYNC_SRC_HARNESS_MARIADB_SERVER_H_
#define DUOSYNC_SRC_HARNESS_MARIADB_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sql/sql_connection.h"

namespace duosync::harness {

struct ServerOptions {
  uint32_t server_id = 1;
  std::string region = "region-1";
  std::vector<std::string> extra_args;  // more mariadbd options, e.g. "--binlog-format=STATEMENT"
};

class MariaDbServer {
 public:
  // A user with every privilege over TCP, for the product's endpoints.
  static constexpr const char* kUser = "duosync";
  static constexpr const char* kPassword = "duosync-test-secret";

  // Installs a data dir and starts the server; returns when it accepts connections.
  static absl::StatusOr<std::unique_ptr<MariaDbServer>> Start(const ServerOptions& options);
  ~MariaDbServer();
  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;

  const std::string& host() const { return host_; }
  unsigned port() const { return port_; }
  uint32_t server_id() const { return options_.server_id; }
  const std::string& region() const { return options_.region; }
  const std::string& dir() const { return dir_; }

  // Connection options for kUser over TCP (optionally with a default database).
  ConnectOptions Options(const std::string& database = "") const;
  // A new connection as kUser.
  absl::StatusOr<std::unique_ptr<SqlConnection>> Connect(const std::string& database = "") const;

  // The endpoint as config JSON: {"region","host","port","user","password"}.
  std::string EndpointJson() const;

  // Stops gracefully (SIGTERM) and waits; Restart starts it again on the same port and data.
  absl::Status Stop();
  absl::Status Restart();
  // SIGKILL, no cleanup by the server.
  absl::Status Kill();
  bool running() const { return pid_ > 0; }

 private:
  MariaDbServer(ServerOptions options, std::string dir);
  absl::Status Launch();
  absl::Status WaitReady();
  absl::Status CreateUsers();

  ServerOptions options_;
  std::string dir_;
  std::string host_ = "127.0.0.1";
  unsigned port_ = 0;
  pid_t pid_ = -1;
};

// Starts `n` servers with server ids 1..n (or from `first_server_id`) and regions "region-1".. in
// parallel.
absl::StatusOr<std::vector<std::unique_ptr<MariaDbServer>>> StartServers(
    int n, uint32_t first_server_id = 1, const std::vector<std::string>& extra_args = {});

}  // namespace duosync::harness

#endif  // DUOSYNC_SRC_HARNESS_MARIADB_SERVER_H_
