#include "harness/mariadb_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "harness/child_process.h"

namespace duosync::harness {
namespace {

std::string FindProgram(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    if (access(c.c_str(), X_OK) == 0) return c;
  }
  return "";
}

// Runs a program to completion, output to `log`; returns its exit status.
int RunProgram(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) ExecLogged(argv, log);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace

MariaDbServer::MariaDbServer(ServerOptions options, std::string dir)
    : options_(std::move(options)), dir_(std::move(dir)) {}

MariaDbServer::~MariaDbServer() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);  // the data is thrown away: no need for a clean shutdown
    waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

ConnectOptions MariaDbServer::Options(const std::string& database) const {
  ConnectOptions o;
  o.host = host_;
  o.port = port_;
  o.user = kUser;
  o.password = kPassword;
  o.database = database;
  return o;
}

absl::StatusOr<std::unique_ptr<SqlConnection>> MariaDbServer::Connect(
    const std::string& database) const {
  return SqlConnection::Connect(Options(database));
}

std::string MariaDbServer::EndpointJson() const {
  return absl::StrCat("{\"region\":\"", options_.region, "\",\"host\":\"", host_,
                      "\",\"port\":", port_, ",\"user\":\"", kUser, "\",\"password\":\"",
                      kPassword, "\"}");
}

absl::Status MariaDbServer::Launch() {
  const std::string mariadbd = FindProgram({"/usr/sbin/mariadbd", "/usr/sbin/mysqld"});
  if (mariadbd.empty()) {
    return absl::FailedPreconditionError(
        "mariadbd not found: install Debian's mariadb-server (scripts/bootstrap does)");
  }
  std::vector<std::string> argv = {
      mariadbd, "--no-defaults", "--datadir=" + dir_ + "/data", "--socket=" + dir_ + "/mysqld.sock",
      absl::StrCat("--port=", port_), "--bind-address=127.0.0.1", "--user=root",
      absl::StrCat("--server-id=", options_.server_id),
      absl::StrCat("--gtid-domain-id=", options_.server_id), "--log-bin=" + dir_ + "/data/binlog",
      "--binlog-format=ROW", "--binlog-row-image=FULL", "--binlog-row-metadata=FULL", "--pid-file=" + dir_ + "/mysqld.pid",
      "--log-error=" + dir_ + "/error.log", "--tmpdir=" + dir_, "--skip-name-resolve", "--max-connections=400",
      "--innodb-buffer-pool-size=256M", "--innodb-log-file-size=128M",
      // Test servers trade durability on power loss (not process crash) for speed.
      "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0", "--character-set-server=utf8mb4",
      "--collation-server=utf8mb4_general_ci", "--max-allowed-packet=256M",
      "--skip-slave-start"};
  for (const auto& a : options_.extra_args) argv.push_back(a);
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    // The server must not outlive the test or demo that started it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setpgid(0, 0);
    ExecLogged(argv, dir_ + "/stdout.log");
  }
  pid_ = pid;
  return absl::OkStatus();
}

absl::Status MariaDbServer::WaitReady() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  ConnectOptions o;
  o.host = host_;
  o.port = port_;
  o.user = "root";
  o.connect_timeout_s = 2;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::UnavailableError(absl::StrCat("mariadbd exited during startup; error log:\n",
                                                 Tail(dir_ + "/error.log", 2000)));
    }
    if (SqlConnection::Connect(o).ok()) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("mariadbd not ready after 60 s; error log:\n", Tail(dir_ + "/error.log", 2000)));
}

absl::Status MariaDbServer::CreateUsers() {
  ConnectOptions o;
  o.host = host_;
  o.port = port_;
  o.user = "root";
  auto conn = SqlConnection::Connect(o);
  if (!conn.ok()) return conn.status();
  return (*conn)->Execute(absl::StrCat(
      "CREATE USER '", kUser, "'@'%' IDENTIFIED BY '", kPassword, "';",
      "GRANT ALL PRIVILEGES ON *.* TO '", kUser, "'@'%' WITH GRANT OPTION;",
      // The binlog of a fresh server starts clean for tests that read it from the beginning.
      "RESET MASTER"));
}

absl::Status MariaDbServer::Stop() {
  if (pid_ <= 0) return absl::OkStatus();
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return absl::OkStatus();
}

absl::Status MariaDbServer::Kill() {
  if (pid_ <= 0) return absl::OkStatus();
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return absl::OkStatus();
}

absl::Status MariaDbServer::Restart() {
  absl::Status s = Stop();
  if (!s.ok()) return s;
  s = Launch();
  if (!s.ok()) return s;
  return WaitReady();
}

namespace {

// Makes a temp dir with a freshly installed data dir in it.
absl::Status PrepareDataDir(std::string* dir_out) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/duosync-mariadb-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  *dir_out = templ;
  const std::string install = FindProgram({"/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"});
  if (install.empty()) {
    std::filesystem::remove_all(templ);
    return absl::FailedPreconditionError(
        "mariadb-install-db not found: install Debian's mariadb-server (scripts/bootstrap does)");
  }
  int rc = RunProgram({install, "--no-defaults", "--datadir=" + templ + "/data", "--user=root",
                       "--auth-root-authentication-method=normal", "--skip-test-db",
                       "--tmpdir=" + templ,
                       "--innodb-log-file-size=128M"},
                      templ + "/install.log");
  if (rc != 0) {
    std::string log = Tail(templ + "/install.log", 2000);
    std::filesystem::remove_all(templ);
    return absl::InternalError(absl::StrCat("mariadb-install-db failed (", rc, "):\n", log));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<MariaDbServer>> MariaDbServer::Start(const ServerOptions& options) {
  std::string dir;
  absl::Status prepared = PrepareDataDir(&dir);
  if (!prepared.ok()) return prepared;
  std::unique_ptr<MariaDbServer> server(new MariaDbServer(options, dir));
  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    server->port_ = PickFreePort();
    last = server->Launch();
    if (last.ok()) last = server->WaitReady();
    if (last.ok()) break;
    (void)server->Kill();  // most likely the port was taken meanwhile: try another
  }
  if (!last.ok()) return last;
  absl::Status users = server->CreateUsers();
  if (!users.ok()) return users;
  return server;
}

absl::StatusOr<std::vector<std::unique_ptr<MariaDbServer>>> StartServers(
    int n, uint32_t first_server_id, const std::vector<std::string>& extra_args) {
  std::vector<absl::StatusOr<std::unique_ptr<MariaDbServer>>> results(n);
  // Each server is forked from its own thread, so PR_SET_PDEATHSIG would fire when that thread
  // ends; start them one after another instead: a start takes well under a second.
  for (int i = 0; i < n; ++i) {
    ServerOptions o;
    o.server_id = first_server_id + i;
    o.region = absl::StrCat("region-", i + 1);
    o.extra_args = extra_args;
    results[i] = MariaDbServer::Start(o);
  }
  std::vector<std::unique_ptr<MariaDbServer>> servers;
  for (auto& r : results) {
    if (!r.ok()) return r.status();
    servers.push_back(std::move(*r));
  }
  return servers;
}

}  // namespace duosync::harness
