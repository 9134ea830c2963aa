// Catch-up of a binlog backlog: duosync's applier (serial and N workers) beside MariaDB's own
// parallel replication (slave_parallel_mode=optimistic, at 4, 8 and 16 threads: duosync is compared
// with the best of them) on the same backlog, same machine, in one run; then the same with a delay proxy (~30 ms round trip) between the applier and the destination.
//
//   build/bench/catchup_bench [--transactions 100000] [--workers 16] [--wan-transactions 3000]
//                             [--wan-serial-transactions 300] [--wan-delay-ms 15]
//                             [--tables 4] [--table-size 10000] [--batch 200] [--local-only 1]
//                             [--native-threads 4,8,16] [--wan-only 1]
//
// "serial" is one worker applying one source transaction per destination transaction; "merging"
// lets that worker write up to --batch ready transactions per destination transaction; "parallel" adds
// workers. Rates count from the first applied transaction (connection setup excluded: over a long
// link it costs a few round trips per connection, once). Every full local catch-up is checked: B
// must equal A table by table (CHECKSUM TABLE) afterwards.
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "base/gtid_position.h"
#include "duosync/project.h"
#include "duosync/report.pb.h"
#include "google/protobuf/util/json_util.h"
#include "harness/delay_proxy.h"
#include "harness/mariadb_server.h"

namespace {

using duosync::GtidPosition;
using duosync::SqlConnection;
using duosync::harness::MariaDbServer;
using Clock = std::chrono::steady_clock;

// How often both appliers are asked how far they got: the same for both, and seldom enough that
// asking (a status document for duosync, a query on B for native replication) takes no CPU worth
// counting from what is measured on a 2-core machine (every 5 ms took ~6% of a core).
constexpr std::chrono::milliseconds kPoll{20};

struct Flags {
  int transactions = 100000, workers = 16, wan_transactions = 3000, wan_serial_transactions = 300;
  int wan_delay_ms = 15;
  int batch = 200;  // apply_batch_transactions of the merging and parallel runs (the default)
  int tables = 4, table_size = 10000;
  // Only the local parallel runs beside native replication (no serial, record store or WAN runs):
  // the quick comparison while working on the applier.
  int local_only = 0;
  std::vector<int> native_threads = {4, 8, 16};  // native replication's runs; compared with its best
  int wan_only = 0;  // only the runs over the delay proxy
};

std::string Run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  if (pclose(p) != 0) {
    std::cerr << "command failed: " << cmd << "\n" << out << "\n";
    std::exit(1);
  }
  return out;
}

void Must(const absl::Status& s, const std::string& what) {
  if (!s.ok()) {
    std::cerr << what << ": " << s << "\n";
    std::exit(1);
  }
}

std::string Value(SqlConnection* c, const std::string& sql) {
  auto v = c->QueryValue(sql);
  Must(v.status(), sql);
  return v->value_or("");
}

bool Covers(const std::string& have_text, const GtidPosition& want) {
  auto have = GtidPosition::Parse(have_text);
  if (!have.ok()) return false;
  for (const auto& [domain, gtid] : want.domains()) {
    if (!have->Covers(gtid)) return false;
  }
  return true;
}

duosync::report::LinkStatus LinkStatus(const duosync::Project& p) {
  duosync::report::ProjectStatus s;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  (void)google::protobuf::util::JsonStringToMessage(p.StatusJson(), &s, o);
  return s.links_size() ? s.links(0) : duosync::report::LinkStatus();
}

struct Result {
  double seconds = 0;     // from the first applied transaction to the end
  uint64_t rows = 0;      // rows applied in that time
  uint64_t total_rows = 0;
  uint64_t store_bytes = 0;
  double rate() const { return rows / seconds; }
};

class Bench {
 public:
  Bench(Flags f, MariaDbServer* a, MariaDbServer* b) : f_(f), a_(a), b_(b) {
    ca_ = std::move(*a->Connect());
    cb_ = std::move(*b->Connect());
  }

  void Prepare() {
    Must(ca_->Execute("CREATE DATABASE sbtest"), "create");
    std::cerr << "preparing " << f_.tables << " x " << f_.table_size << " rows on A...\n";
    Sysbench("prepare", "--threads=4");
    dump_ = "/tmp/duosync-catchup-dump.sql";
    Run(absl::StrCat("mariadb-dump", Auth(), "-P", a_->port(), " --single-transaction sbtest > ", dump_));
    start_ = *GtidPosition::Parse(Value(ca_.get(), "SELECT @@gtid_binlog_pos"));
    std::cerr << "writing a backlog of " << f_.transactions << " transactions into A's binlog...\n";
    const auto t0 = Clock::now();
    Sysbench("run", absl::StrCat("--threads=4 --time=0 --events=", f_.transactions));
    source_seconds_ = std::chrono::duration<double>(Clock::now() - t0).count();
    end_ = *GtidPosition::Parse(Value(ca_.get(), "SELECT @@gtid_binlog_pos"));
  }

  // The position after the first `n` transactions of the backlog.
  GtidPosition After(int n) const {
    GtidPosition p = start_;
    for (const auto& [domain, gtid] : start_.domains()) {
      duosync::Gtid g = gtid;
      g.sequence += n;
      p.Advance(g);
    }
    return p;
  }

  // Resets B to A's state before the backlog.
  void ResetB() {
    (void)cb_->Execute("STOP SLAVE; RESET SLAVE ALL");
    Must(cb_->Execute("DROP DATABASE IF EXISTS sbtest; DROP DATABASE IF EXISTS duosync; CREATE DATABASE sbtest"),
         "reset B");
    Run(absl::StrCat("mariadb", Auth(), "-P", b_->port(), " sbtest < ", dump_));
  }

  // With `store`, the link keeps a record store: the reader fills it, the applier reads it.
  Result Duosync(const std::string& name, int workers, int batch, unsigned dest_port,
                 const GtidPosition& until, bool store = false) {
    ResetB();
    const std::string data_dir = "/tmp/duosync-catchup-store";
    std::filesystem::remove_all(data_dir);
    std::string b_endpoint = b_->EndpointJson();
    b_endpoint.replace(b_endpoint.find(absl::StrCat("\"port\":", b_->port())),
                       absl::StrCat("\"port\":", b_->port()).size(), absl::StrCat("\"port\":", dest_port));
    const std::string config = absl::StrCat(
        R"({"name": ")", name, R"(", "data_dir": ")", data_dir, R"(", "endpoints": {"a": )",
        a_->EndpointJson(), R"(, "b": )", b_endpoint,
        R"(}, "forward": {"migration_types": ["INCREMENTAL"], "start_gtid": ")", start_.ToString(),
        R"(", "options": {"apply_workers": )", workers, R"(, "apply_batch_transactions": )", batch,
        store ? R"(, "retention_hours": 1)" : "",
        R"(}, "objects": {"rules": {"whitelist": ["sbtest.*"]}}}})");
    auto project = duosync::Project::Create(config);
    Must(project.status(), "create project");
    Must((*project)->Start(), "start");
    Clock::time_point first;
    uint64_t first_rows = 0;
    while (true) {
      const auto status = LinkStatus(**project);
      if (status.stage() == "failed") {
        std::cerr << "link failed: " << status.last_error() << "\n";
        std::exit(1);
      }
      if (first_rows == 0 && status.rows_applied() > 0) {
        first = Clock::now();
        first_rows = status.rows_applied();
      }
      if (Covers(status.position(), until)) break;
      std::this_thread::sleep_for(kPoll);
    }
    Result r;
    r.seconds = std::chrono::duration<double>(Clock::now() - first).count();
    r.rows = LinkStatus(**project).rows_applied() - first_rows;
    r.total_rows = LinkStatus(**project).rows_applied();
    r.store_bytes = LinkStatus(**project).store().bytes();
    (void)(*project)->Stop();
    std::filesystem::remove_all(data_dir);
    return r;
  }

  Result Native(int threads, unsigned master_port, const GtidPosition& until) {
    ResetB();
    Must(cb_->Execute(absl::StrCat(
             "SET GLOBAL gtid_slave_pos='", start_.ToString(), "';",
             "SET GLOBAL slave_parallel_threads=", threads, ";",
             "SET GLOBAL slave_parallel_mode='optimistic';",
             "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=", master_port, ", MASTER_USER='",
             MariaDbServer::kUser, "', MASTER_PASSWORD='", MariaDbServer::kPassword,
             "', MASTER_USE_GTID=slave_pos")),
         "configure replica");
    const auto t0 = Clock::now();
    Must(cb_->Execute("START SLAVE"), "start slave");
    while (!Covers(Value(cb_.get(), "SELECT @@gtid_slave_pos"), until)) {
      std::this_thread::sleep_for(kPoll);
    }
    Result r;
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    Must(cb_->Execute("STOP SLAVE; RESET SLAVE ALL; SET GLOBAL slave_parallel_threads=0"), "stop slave");
    return r;
  }

  // B equals A table by table.
  bool Same() {
    for (int t = 1; t <= f_.tables; ++t) {
      const std::string q = absl::StrCat("CHECKSUM TABLE sbtest.sbtest", t, " EXTENDED");
      auto ra = ca_->Query(q);
      auto rb = cb_->Query(q);
      if (!ra.ok() || !rb.ok() || (*ra)[0][1] != (*rb)[0][1]) return false;
    }
    return true;
  }

  double source_seconds() const { return source_seconds_; }
  const GtidPosition& end() const { return end_; }

 private:
  std::string Auth() const {
    return absl::StrCat(" -h127.0.0.1 -u", MariaDbServer::kUser, " -p", MariaDbServer::kPassword, " ");
  }
  void Sysbench(const std::string& command, const std::string& extra) {
    Run(absl::StrCat("sysbench oltp_write_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=",
                     a_->port(), " --mysql-user=", MariaDbServer::kUser, " --mysql-password=",
                     MariaDbServer::kPassword, " --mysql-db=sbtest --tables=", f_.tables,
                     " --table-size=", f_.table_size, " ", extra, " ", command, " 2>&1"));
  }

  Flags f_;
  MariaDbServer* a_;
  MariaDbServer* b_;
  std::unique_ptr<SqlConnection> ca_, cb_;
  std::string dump_;
  GtidPosition start_, end_;
  double source_seconds_ = 0;
};

// One JSON line per figure, to compare across commits: our rate over the anchor's.
void JsonLine(const std::string& figure, const Flags& f, double rows_per_s, double anchor_rows_per_s,
              const std::string& anchor = "MariaDB optimistic parallel replication") {
  std::cout << absl::StrFormat(
      R"({"bench":"catchup","figure":"%s","transactions":%d,"workers":%d,"batch":%d,"rows_per_s":%.0f,"anchor":"%s","anchor_rows_per_s":%.0f,"ratio":%.3f})",
      figure, f.transactions, f.workers, f.batch, rows_per_s, anchor, anchor_rows_per_s,
      anchor_rows_per_s > 0 ? rows_per_s / anchor_rows_per_s : -1.0) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (k == "--native-threads") {
      f.native_threads.clear();
      for (absl::string_view n : absl::StrSplit(argv[i + 1], ',')) f.native_threads.push_back(std::atoi(std::string(n).c_str()));
      continue;
    }
    if (k == "--transactions") f.transactions = v;
    else if (k == "--workers") f.workers = v;
    else if (k == "--batch") f.batch = v;
    else if (k == "--wan-transactions") f.wan_transactions = v;
    else if (k == "--wan-delay-ms") f.wan_delay_ms = v;
    else if (k == "--wan-serial-transactions") f.wan_serial_transactions = v;
    else if (k == "--tables") f.tables = v;
    else if (k == "--table-size") f.table_size = v;
    else if (k == "--local-only") f.local_only = v;
    else if (k == "--wan-only") f.wan_only = v;
  }
  duosync::harness::ServerOptions oa, ob;
  oa.server_id = 1;
  ob.server_id = 2;
  ob.region = "region-2";
  ob.extra_args = {"--log-slave-updates"};  // B logs what it applies, natively or through duosync
  auto a = MariaDbServer::Start(oa);
  auto b = MariaDbServer::Start(ob);
  Must(a.status(), "server A");
  Must(b.status(), "server B");
  Bench bench(f, a->get(), b->get());
  bench.Prepare();

  struct Row {
    std::string name;
    Result r;
    std::string same;
  };
  auto check = [&] { return bench.Same() ? "yes" : "NO"; };
  const unsigned b_port = (*b)->port();
  std::vector<Row> local;
  if (f.wan_only) {
    auto to_b = duosync::harness::DelayProxy::Start("127.0.0.1", b_port, absl::Milliseconds(f.wan_delay_ms));
    Must(to_b.status(), "proxy");
    std::cerr << "WAN: serial over the delay proxy...\n";
    const Result serial =
        bench.Duosync("wan-serial", 1, 1, (*to_b)->port(), bench.After(f.wan_serial_transactions));
    std::cerr << "WAN: " << f.workers << " workers over the delay proxy...\n";
    const Result parallel =
        bench.Duosync("wan-parallel", f.workers, f.batch, (*to_b)->port(), bench.After(f.wan_transactions));
    std::cout << absl::StrFormat(
        "\n| applier, %d ms round trip to the destination | time | rows/s | vs serial |\n|---|---|---|---|\n"
        "| duosync serial (first %d transactions) | %.1f s | %.0f | 1.0x |\n"
        "| duosync %d workers + merging (first %d transactions) | %.1f s | %.0f | %.1fx |\n\n",
        2 * f.wan_delay_ms, f.wan_serial_transactions, serial.seconds, serial.rate(), f.workers,
        f.wan_transactions, parallel.seconds, parallel.rate(), parallel.rate() / serial.rate());
    JsonLine("wan_parallel_vs_serial", f, parallel.rate(), serial.rate(), "duosync serial over the same proxy");
    return 0;
  }
  if (!f.local_only) {
    std::cerr << "local: serial...\n";
    local.push_back({"duosync serial (1 worker, 1 transaction per commit)",
                     bench.Duosync("serial", 1, 1, b_port, bench.end()), check()});
  }
  std::cerr << "local: merging...\n";
  local.push_back({absl::StrCat("duosync 1 worker + merging (", f.batch, " per commit)"),
                   bench.Duosync("merging", 1, f.batch, b_port, bench.end()), check()});
  const size_t merging_row = local.size() - 1;
  Result stored;
  std::string stored_same;
  if (!f.local_only) {
    std::cerr << "local: merging with the record store...\n";
    stored = bench.Duosync("stored", 1, f.batch, b_port, bench.end(), /*store=*/true);
    stored_same = check();
  }
  std::cerr << "local: " << f.workers << " workers...\n";
  local.push_back({absl::StrCat("duosync ", f.workers, " worker", f.workers == 1 ? "" : "s", " + merging (", f.batch,
                                " per commit)"),
                   bench.Duosync("parallel", f.workers, f.batch, b_port, bench.end()), check()});
  const size_t parallel_row = local.size() - 1;
  // Native replication at each thread count asked for: duosync is compared with its best.
  const size_t first_native = local.size();
  size_t best_native = first_native;
  for (int threads : f.native_threads) {
    std::cerr << "local: MariaDB parallel replication, " << threads << " threads...\n";
    Result native = bench.Native(threads, (*a)->port(), bench.end());
    native.rows = local[merging_row].r.total_rows;  // the same backlog
    local.push_back({absl::StrCat("MariaDB replication, optimistic, ", threads, " threads"), native, check()});
    if (native.rate() > local[best_native].r.rate()) best_native = local.size() - 1;
  }
  const Result native = local[best_native].r;
  const int native_best_threads = f.native_threads[best_native - first_native];
  if (f.local_only) {
    std::cout << absl::StrFormat(
        "\ncatchup_bench: %d sysbench oltp_write_only transactions, %d tables x %d rows\n\n"
        "| applier, local | time | rows/s | vs MariaDB at its best (%d threads) | B equals A |\n|---|---|---|---|---|\n",
        f.transactions, f.tables, f.table_size, native_best_threads);
    for (const auto& row : local) {
      std::cout << absl::StrFormat("| %s | %.1f s | %.0f | %.2fx | %s |\n", row.name, row.r.seconds, row.r.rate(),
                                   row.r.rate() / native.rate(), row.same);
    }
    std::cout << "\n";
    JsonLine("merging_vs_native_best", f, local[merging_row].r.rate(), native.rate());
    JsonLine("parallel_vs_native_best", f, local[parallel_row].r.rate(), native.rate());
    return 0;
  }

  auto to_b = duosync::harness::DelayProxy::Start("127.0.0.1", b_port, absl::Milliseconds(f.wan_delay_ms));
  auto to_a = duosync::harness::DelayProxy::Start("127.0.0.1", (*a)->port(), absl::Milliseconds(f.wan_delay_ms));
  Must(to_b.status(), "proxy");
  Must(to_a.status(), "proxy");
  std::vector<Row> wan;
  std::cerr << "WAN: serial over the delay proxy...\n";
  wan.push_back({absl::StrCat("duosync serial (first ", f.wan_serial_transactions, " transactions)"),
                 bench.Duosync("wan-serial", 1, 1, (*to_b)->port(), bench.After(f.wan_serial_transactions)), ""});
  std::cerr << "WAN: " << f.workers << " workers over the delay proxy...\n";
  wan.push_back({absl::StrCat("duosync ", f.workers, " workers + merging (first ", f.wan_transactions,
                              " transactions)"),
                 bench.Duosync("wan-parallel", f.workers, f.batch, (*to_b)->port(), bench.After(f.wan_transactions)), ""});
  std::cerr << "WAN: MariaDB replication reading A's binlog over the delay proxy...\n";
  Result wan_native = bench.Native(f.workers, (*to_a)->port(), bench.After(f.wan_transactions));
  wan_native.rows = wan[1].r.total_rows;
  wan.push_back({absl::StrCat("MariaDB replication, ", f.workers, " threads, binlog over the link (first ",
                              f.wan_transactions, ")"), wan_native, ""});

  const uint64_t backlog_rows = local[0].r.total_rows;
  std::cout << absl::StrFormat(
      "\ncatchup_bench: backlog of %d sysbench oltp_write_only transactions (%llu rows; written by "
      "4 sysbench threads in %.1f s = %.0f rows/s), %d tables x %d rows\n\n"
      "| applier, local | time | rows/s | vs serial | vs MariaDB at its best (%d threads) | B equals A |\n"
      "|---|---|---|---|---|---|\n",
      f.transactions, static_cast<unsigned long long>(backlog_rows), bench.source_seconds(),
      backlog_rows / bench.source_seconds(), f.tables, f.table_size, native_best_threads);
  for (const auto& row : local) {
    std::cout << absl::StrFormat("| %s | %.1f s | %.0f | %.2fx | %.2fx | %s |\n", row.name, row.r.seconds,
                                 row.r.rate(), row.r.rate() / local[0].r.rate(),
                                 row.r.rate() / native.rate(), row.same);
  }
  std::cout << absl::StrFormat(
      "\n| record store (1 worker + merging) | time | rows/s | on / off | store size | B equals A |\n"
      "|---|---|---|---|---|---|\n| off | %.1f s | %.0f | 1.00x | - | %s |\n"
      "| on: reader -> store -> applier | %.1f s | %.0f | %.2fx | %.1f MB | %s |\n",
      local[1].r.seconds, local[1].r.rate(), local[1].same, stored.seconds, stored.rate(),
      stored.rate() / local[1].r.rate(), stored.store_bytes / 1e6, stored_same);
  std::cout << absl::StrFormat(
      "\n| applier, %d ms round trip to the destination | time | rows/s | vs serial |\n|---|---|---|---|\n",
      2 * f.wan_delay_ms);
  for (const auto& row : wan) {
    std::cout << absl::StrFormat("| %s | %.1f s | %.0f | %.1fx |\n", row.name, row.r.seconds, row.r.rate(),
                                 row.r.rate() / wan[0].r.rate());
  }
  std::cout << "\n";
  JsonLine("merging_vs_native_best", f, local[merging_row].r.rate(), native.rate());
  JsonLine("parallel_vs_native_best", f, local[parallel_row].r.rate(), native.rate());
  JsonLine("serial_vs_native_best", f, local[0].r.rate(), native.rate());
  JsonLine("wan_parallel_vs_serial", f, wan[1].r.rate(), wan[0].r.rate(), "duosync serial over the same proxy");
  JsonLine("wan_parallel_vs_native", f, wan[1].r.rate(), wan[2].r.rate(),
           "MariaDB replication reading the binlog over the proxy");
  return 0;
}
