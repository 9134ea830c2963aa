// Peak memory of applying one huge source transaction (a batch job's single INSERT ... SELECT of
// N rows), beside the 512 MB target of issue #15, on two real MariaDB servers started by the
// harness. The link runs in this process: its peak RSS (VmHWM) is the figure; the RSS before the
// transaction is printed beside it.
//
//   build/bench/huge_transaction_bench [--rows 1000000] [--rows 100000 ...] [--store] [--part-mb N]
//
// Each --rows adds one transaction size (default 100000 and 1000000). --store keeps a record
// store (retention_hours 1); without it the link reads the source directly. --part-mb sets the
// link's transaction_part_mb (default: the link's default, 32; 1024 holds these transactions
// whole, as before parts existed). A JSON line per figure follows the table.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "duosync/project.h"
#include "duosync/report.pb.h"
#include "google/protobuf/util/json_util.h"
#include "harness/mariadb_server.h"

namespace {

using duosync::harness::MariaDbServer;
using Clock = std::chrono::steady_clock;

// A field of /proc/self/status, in MiB.
double ProcStatusMiB(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      int64_t kb = 0;
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(field.size() + 1, line.size() - field.size() - 4)), &kb);
      return kb / 1024.0;
    }
  }
  return -1;
}

// Resets the peak (VmHWM) to the current RSS, so that each size is measured on its own.
void ResetPeak() { std::ofstream("/proc/self/clear_refs") << "5"; }

void Must(const absl::Status& s, const std::string& what) {
  if (!s.ok()) {
    std::cerr << what << ": " << s << "\n";
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  bool store = false;
  int part_mb = 0;  // the link's default
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--rows" && i + 1 < argc) sizes.push_back(std::atoi(argv[++i]));
    else if (k == "--store") store = true;
    else if (k == "--part-mb" && i + 1 < argc) part_mb = std::atoi(argv[++i]);
  }
  if (sizes.empty()) sizes = {100000, 1000000};
  auto servers = duosync::harness::StartServers(2);
  Must(servers.status(), "servers");
  MariaDbServer& a = *(*servers)[0];
  MariaDbServer& b = *(*servers)[1];
  auto ca = *a.Connect();
  auto cb = *b.Connect();
  const std::string table = "CREATE TABLE big.t (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL)";
  Must(ca->Execute("CREATE DATABASE big; " + table), "create on A");
  Must(cb->Execute("CREATE DATABASE big; " + table), "create on B");
  const std::string dir = "/tmp/duosync-huge-bench";
  (void)std::system(("rm -rf " + dir).c_str());
  const std::string config = absl::StrCat(
      R"({"name": "huge", "data_dir": ")", dir, R"(", "endpoints": {"a": )", a.EndpointJson(), R"(, "b": )",
      b.EndpointJson(), R"(}, "forward": {"migration_types": ["INCREMENTAL"], "options": {"retention_hours": )",
      store ? 1 : 0, R"(, "transaction_part_mb": )", part_mb, R"(}, "objects": {"rules": {"whitelist": ["big.*"]}}}})");
  auto project = duosync::Project::Create(config);
  Must(project.status(), "project");
  Must((*project)->Start(), "start");

  std::cout << absl::StrFormat("\nhuge_transaction_bench: one INSERT ... SELECT per size, %s\n\n",
                               store ? "through the record store" : "read from the source directly");
  std::cout << "| rows in one transaction | apply time | RSS before | peak RSS | target |\n|---|---|---|---|---|\n";
  std::vector<std::string> json;
  int first = 1;
  for (int rows : sizes) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ResetPeak();
    const double before = ProcStatusMiB("VmRSS");
    const auto t0 = Clock::now();
    Must(ca->Execute(absl::StrCat("INSERT INTO big.t SELECT seq, seq % 1000, REPEAT('c', 120), MD5(seq) FROM big.seq_",
                                  first, "_to_", first + rows - 1)),
         "insert");
    const std::string count = absl::StrCat("SELECT COUNT(*) FROM big.t");
    const std::string want = *(*ca->QueryValue(count));
    while (true) {
      auto got = cb->QueryValue(count);
      if (got.ok() && **got == want) break;
      duosync::report::ProjectStatus s;
      (void)google::protobuf::util::JsonStringToMessage((*project)->StatusJson(), &s);
      if (s.links(0).stage() == "failed") {
        std::cerr << "the link failed: " << s.links(0).last_error() << "\n";
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    const double peak = ProcStatusMiB("VmHWM");
    std::cout << absl::StrFormat("| %d | %.1f s | %.0f MiB | %.0f MiB | 512 MB: %s |\n", rows, seconds, before, peak,
                                 peak * 1.048576 <= 512 ? "met" : "NOT met");
    json.push_back(absl::StrFormat(
        R"({"bench":"huge_transaction","rows":%d,"store":%s,"part_mb":%d,"seconds":%.2f,"rss_before_mib":%.0f,"peak_rss_mib":%.0f})",
        rows, store ? "true" : "false", part_mb, seconds, before, peak));
    first += rows;
  }
  std::cout << "\n";
  for (const std::string& line : json) std::cout << line << "\n";
  (void)(*project)->Stop();
  return 0;
}
