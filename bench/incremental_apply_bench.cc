// Incremental apply (the link's defaults) under a sysbench oltp_write_only load, beside the rate
// at which the same load was written to the source, on two real MariaDB servers started by the
// harness.
//
//   build/bench/incremental_apply_bench [--seconds N] [--threads N] [--tables N] [--table-size N]
//
// Phase "live": sysbench writes to A while the forward link applies to B; reports the source's
// write rate, the link's apply rate, the largest lag seen and the time to catch up after the load.
// Phase "backlog": the link is stopped, sysbench writes a backlog, the link starts and applies it;
// reports the catch-up rate.
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/gtid_position.h"
#include "duosync/project.h"
#include "duosync/report.pb.h"
#include "google/protobuf/util/json_util.h"
#include "harness/mariadb_server.h"

namespace {

using duosync::harness::MariaDbServer;
using Clock = std::chrono::steady_clock;

struct Flags {
  int seconds = 20, threads = 4, tables = 4, table_size = 10000;
};

std::string Run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int rc = pclose(p);
  if (rc != 0) {
    std::cerr << "command failed (" << rc << "): " << cmd << "\n" << out << "\n";
    std::exit(1);
  }
  return out;
}

std::string Sysbench(const MariaDbServer& s, const Flags& f, const std::string& command, int seconds) {
  return Run(absl::StrCat("sysbench oltp_write_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=",
                          s.port(), " --mysql-user=", MariaDbServer::kUser, " --mysql-password=",
                          MariaDbServer::kPassword, " --mysql-db=sbtest --tables=", f.tables,
                          " --table-size=", f.table_size, " --threads=", f.threads, " --time=", seconds,
                          " --events=0 --report-interval=0 ", command, " 2>&1"));
}

// Transactions per second from sysbench's summary.
double SysbenchTps(const std::string& out, long* transactions) {
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(transactions:\s+(\d+)\s+\(([\d.]+) per sec)"))) {
    *transactions = std::stol(m[1]);
    return std::stod(m[2]);
  }
  return 0;
}

duosync::report::LinkStatus Status(const duosync::Project& p) {
  duosync::report::ProjectStatus s;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  (void)google::protobuf::util::JsonStringToMessage(p.StatusJson(), &s, o);
  return s.links_size() ? s.links(0) : duosync::report::LinkStatus();
}

// True when the link's applied position covers A's binlog end.
bool CaughtUp(duosync::SqlConnection* a, const duosync::Project& p) {
  auto end = a->QueryValue("SELECT @@gtid_binlog_pos");
  auto want = duosync::GtidPosition::Parse(end.ok() ? end->value_or("") : "");
  auto have = duosync::GtidPosition::Parse(Status(p).position());
  if (!want.ok() || !have.ok()) return false;
  for (const auto& [domain, gtid] : want->domains()) {
    if (!have->Covers(gtid)) return false;
  }
  return true;
}

double WaitCaughtUp(duosync::SqlConnection* a, const duosync::Project& p, double* max_lag) {
  const auto start = Clock::now();
  while (!CaughtUp(a, p)) {
    *max_lag = std::max(*max_lag, Status(p).lag_seconds());
    if (!Status(p).last_error().empty() && Status(p).stage() == "failed") {
      std::cerr << "link failed: " << Status(p).last_error() << "\n";
      std::exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (k == "--seconds") f.seconds = v;
    else if (k == "--threads") f.threads = v;
    else if (k == "--tables") f.tables = v;
    else if (k == "--table-size") f.table_size = v;
  }
  auto servers = duosync::harness::StartServers(2);
  if (!servers.ok()) {
    std::cerr << servers.status() << "\n";
    return 1;
  }
  MariaDbServer& a = *(*servers)[0];
  MariaDbServer& b = *(*servers)[1];
  auto ca = *a.Connect();
  auto cb = *b.Connect();
  (void)ca->Execute("CREATE DATABASE sbtest");
  (void)cb->Execute("CREATE DATABASE sbtest");
  std::cerr << "preparing " << f.tables << " tables x " << f.table_size << " rows...\n";
  Sysbench(a, f, "prepare", 1);
  const std::string auth = absl::StrCat(" -h127.0.0.1 -u", MariaDbServer::kUser, " -p",
                                        MariaDbServer::kPassword, " ");
  Run(absl::StrCat("mariadb-dump", auth, "-P", a.port(), " --single-transaction sbtest | mariadb",
                   auth, "-P", b.port(), " sbtest"));
  const std::string config = absl::StrCat(
      R"({"name": "bench", "endpoints": {"a": )", a.EndpointJson(), R"(, "b": )", b.EndpointJson(),
      R"(}, "forward": {"migration_types": ["INCREMENTAL"], "objects": {"rules": {"whitelist": ["sbtest.*"]}}}})");

  // Phase 1: live.
  auto project = *duosync::Project::Create(config);
  if (!project->Start().ok()) return 1;
  std::cerr << "live phase: sysbench " << f.seconds << " s, " << f.threads << " threads...\n";
  double live_max_lag = 0;
  std::thread sampler;
  std::atomic<bool> load_done{false};
  sampler = std::thread([&] {
    while (!load_done) {
      live_max_lag = std::max(live_max_lag, Status(*project).lag_seconds());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const uint64_t rows0 = Status(*project).rows_applied();
  const auto live_start = Clock::now();
  long live_txns = 0;
  const double live_tps = SysbenchTps(Sysbench(a, f, "run", f.seconds), &live_txns);
  load_done = true;
  sampler.join();
  const double load_secs = std::chrono::duration<double>(Clock::now() - live_start).count();
  const double tail = WaitCaughtUp(ca.get(), *project, &live_max_lag);
  const uint64_t live_rows = Status(*project).rows_applied() - rows0;
  const double live_apply_secs = load_secs + tail;
  (void)project->Stop();
  project.reset();

  // Phase 2: backlog.
  std::cerr << "backlog phase: sysbench " << f.seconds << " s with the link stopped...\n";
  long backlog_txns = 0;
  const double backlog_tps = SysbenchTps(Sysbench(a, f, "run", f.seconds), &backlog_txns);
  project = *duosync::Project::Create(config);
  const auto catchup_start = Clock::now();
  if (!project->Start().ok()) return 1;
  double ignored = 0;
  WaitCaughtUp(ca.get(), *project, &ignored);
  const double catchup_secs = std::chrono::duration<double>(Clock::now() - catchup_start).count();
  const uint64_t backlog_rows = Status(*project).rows_applied();
  (void)project->Stop();

  const double rows_per_txn = live_txns > 0 ? static_cast<double>(live_rows) / live_txns : 0;
  std::cout << absl::StrFormat(
      "\nincremental_apply_bench: sysbench oltp_write_only, %d tables x %d rows, %d threads, %d s\n\n"
      "| phase | source write rate (sysbench) | duosync apply (defaults: 16 workers, merging) | ratio apply/source | lag |\n"
      "|---|---|---|---|---|\n"
      "| live | %.0f txn/s = %.0f rows/s | %.0f rows/s | %.2f | max %.1f s, caught up %.1f s after the load |\n"
      "| backlog catch-up | %.0f txn/s = %.0f rows/s | %.0f rows/s (%llu rows in %.1f s) | %.2f | - |\n",
      f.tables, f.table_size, f.threads, f.seconds, live_tps, live_tps * rows_per_txn,
      live_rows / live_apply_secs, (live_rows / live_apply_secs) / (live_tps * rows_per_txn),
      live_max_lag, tail, backlog_tps, backlog_tps * rows_per_txn, backlog_rows / catchup_secs,
      static_cast<unsigned long long>(backlog_rows), catchup_secs,
      (backlog_rows / catchup_secs) / (backlog_tps * rows_per_txn));
  return 0;
}
