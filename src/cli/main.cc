// duosync command-line tool. Exit codes (also in README):
//   0 success   1 runtime failure (a link failed, a server is unreachable)   2 usage error
//   3 invalid config   4 precheck failed
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/json_text.h"
#include "cli/binlog_command.h"
#include "cli/cli_defaults.h"
#include "cli/demo.h"
#include "cli/from_json.h"
#include "duosync/project.h"
#include "duosync/report.pb.h"
#include "glog/logging.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "harness/mariadb_server.h"
#include "serve/status_server.h"

namespace {

constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitInvalidConfig = 3,
              kExitPrecheckFailed = 4, kExitDifferent = 5;

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

const char* kUsage = R"(usage: duosync COMMAND [ARGS]

commands:
  validate FILE [--json]        check a project config against every rule
  precheck FILE [--json]        check a project against its real endpoints
  run FILE [--json] [--seconds N] [--listen HOST:PORT]
                                run a project until Ctrl-C (or N seconds), showing progress;
                                --listen serves /metrics (Prometheus) and /status (JSON) there
  status [NAME] [--json]        show the status of projects running on this machine
  demo [--seconds N] [--listen HOST:PORT]
                                start two local MariaDB servers and run an active-active demo,
                                with its console (and /metrics) on a free port or HOST:PORT
  verify FILE [--repair] [--json]
                                compare the forward link's tables row by row (exit 5 when they
                                differ); --repair applies the repair statements to B
  switchover FILE [--read-only] [--seconds N]
                                swap a one-way project's roles: catch the forward link up
                                (optionally making A read-only first), stop it, then run the
                                reverse link B -> A from B's current position
  replay FILE --from WHEN [--link forward|reverse]
                                rewind a link to WHEN (a source time "2026-11-24 10:00:00" UTC,
                                RFC 3339, "@<Unix seconds>", or a GTID position) in its record
                                store; the project's next run applies everything after it again
  binlog FILE... [--json]       print the transactions of binlog files (MariaDB, MySQL 5.7/8,
                                OceanBase): position, GTID, table, operation, before/after
                                values; --json gives one JSON object per line
  conflicts FILE [--json]       list the conflicts each link met and how they were resolved, as
                                the destinations keep them (latest first)
  servers [--count N]           start N MariaDB test servers, print their endpoints as JSON,
                                keep them until stdin closes or SIGTERM
  version                       print the version

exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 invalid config, 4 precheck failed,
            5 verification found differences
)";

int Usage(const std::string& problem) {
  if (!problem.empty()) std::cerr << "duosync: " << problem << "\n\n";
  std::cerr << kUsage;
  return kExitUsage;
}

struct Args {
  std::vector<std::string> positional;
  bool json = false;
  bool read_only = false;
  bool repair = false;
  int seconds = 0;
  int count = 2;
  std::string from;
  std::string link = "forward";
  std::string listen;
};

bool ParseArgs(int argc, char** argv, Args* out, std::string* problem) {
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") {
      out->json = true;
    } else if (a == "--read-only") {
      out->read_only = true;
    } else if (a == "--repair") {
      out->repair = true;
    } else if (a == "--seconds" || a == "--count") {
      int v = 0;
      if (i + 1 >= argc || !absl::SimpleAtoi(argv[i + 1], &v) || v < 0) {
        *problem = a + " needs a non-negative number";
        return false;
      }
      (a == "--seconds" ? out->seconds : out->count) = v;
      ++i;
    } else if (a == "--from" || a == "--link" || a == "--listen") {
      if (i + 1 >= argc) {
        *problem = a + " needs a value";
        return false;
      }
      (a == "--from" ? out->from : a == "--link" ? out->link : out->listen) = argv[++i];
    } else if (a.rfind("--", 0) == 0) {
      *problem = "unknown option " + a;
      return false;
    } else {
      out->positional.push_back(a);
    }
  }
  return true;
}

bool ReadFile(const std::string& path, std::string* out, std::string* problem) {
  std::ifstream in(path);
  if (!in) {
    *problem = "cannot read " + path;
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

std::string StatusDir() {
  const char* d = std::getenv("DUOSYNC_STATUS_DIR");
  return d != nullptr && *d ? d : "/tmp/duosync-status";
}

void PrintValidation(const std::string& json) {
  auto r = duosync::FromJson<duosync::report::ValidationReport>(json);
  for (const auto& e : r.errors()) {
    std::cout << "error   " << (e.field().empty() ? "config" : e.field()) << ": " << e.message()
              << "\n        fix: " << e.fix() << "\n";
  }
  for (const auto& w : r.warnings()) {
    std::cout << "warning " << w.field() << ": " << w.message() << "\n        fix: " << w.fix()
              << "\n";
  }
  std::cout << (r.ok() ? "config is valid" : "config is NOT valid") << "\n";
}

int Validate(const Args& args) {
  if (args.positional.size() != 1) return Usage("validate needs exactly one FILE");
  std::string config, problem;
  if (!ReadFile(args.positional[0], &config, &problem)) return Usage(problem);
  std::string note;
  config = duosync::WithCliDefaults(config, &note);
  bool ok = false;
  std::string report = duosync::Project::Validate(config, &ok);
  if (args.json) std::cout << report << "\n";
  else PrintValidation(report);
  return ok ? kExitOk : kExitInvalidConfig;
}

// Reads and creates a project; prints the problem and sets *exit_code on failure.
std::unique_ptr<duosync::Project> Load(const std::string& path, int* exit_code) {
  std::string config, problem;
  if (!ReadFile(path, &config, &problem)) {
    *exit_code = Usage(problem);
    return nullptr;
  }
  std::string note;
  config = duosync::WithCliDefaults(config, &note);
  if (!note.empty()) std::cerr << "duosync: " << note << "\n";
  auto project = duosync::Project::Create(config);
  if (!project.ok()) {
    bool ok;
    std::cerr << "duosync: invalid config " << path << "\n";
    PrintValidation(duosync::Project::Validate(config, &ok));
    *exit_code = kExitInvalidConfig;
    return nullptr;
  }
  return std::move(*project);
}

void PrintPrecheck(const std::string& json) {
  auto r = duosync::FromJson<duosync::report::PrecheckReport>(json);
  for (const auto& c : r.checks()) {
    std::string where = c.endpoint().empty() ? "" : " [" + c.endpoint() + "]";
    if (!c.link().empty()) where += " (" + c.link() + ")";
    std::cout << absl::StrFormat("%-8s %-20s%s %s\n",
                                 duosync::report::CheckStatus_Name(c.status()), c.name(), where,
                                 c.message());
    if (!c.fix().empty() && c.status() != duosync::report::PASSED) {
      std::cout << "         fix: " << c.fix() << "\n";
    }
  }
  std::cout << (r.ok() ? "precheck passed" : "precheck FAILED") << "\n";
}

int Precheck(const Args& args) {
  if (args.positional.size() != 1) return Usage("precheck needs exactly one FILE");
  int code = 0;
  auto project = Load(args.positional[0], &code);
  if (!project) return code;
  bool ok = false;
  std::string report = project->Precheck(&ok);
  if (args.json) std::cout << report << "\n";
  else PrintPrecheck(report);
  return ok ? kExitOk : kExitPrecheckFailed;
}

// One line per project: each link's stage and figures; a bar while a full copy runs (`tty`).
std::string ProgressLine(const duosync::report::ProjectStatus& s, bool tty = false) {
  std::string line = s.name() + " " + s.state();
  for (const auto& l : s.links()) {
    line += absl::StrFormat(" | %s %s", l.name(), l.stage());
    if (l.stage() == "full" || l.stage() == "schema") {
      const double total = std::max<double>(1, l.full_rows_estimated());
      const double done = std::min(1.0, l.full_rows_copied() / total);
      if (tty) {
        const int width = 20, filled = static_cast<int>(done * width);
        line += " [" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
      }
      line += absl::StrFormat(" %.0f%% %d/~%d rows, tables %d/%d", done * 100, l.full_rows_copied(),
                              l.full_rows_estimated(), l.full_tables_done(), l.full_tables_total());
    } else {
      line += absl::StrFormat(" lag=%.1fs %.0f rows/s txns=%d rows=%d", l.lag_seconds(),
                              l.rows_per_second(), l.transactions_applied(), l.rows_applied());
      if (l.conflicts() > 0) line += absl::StrFormat(" conflicts=%d", l.conflicts());
      if (l.echoes_dropped() > 0) line += absl::StrFormat(" echoes=%d", l.echoes_dropped());
      if (l.has_store()) {
        line += absl::StrFormat(" store=%.1fMB/%d txns", l.store().bytes() / 1e6, l.store().transactions());
      }
      if (!tty) line += " pos=" + (l.position().empty() ? std::string("-") : l.position());
    }
    if (!l.last_error().empty()) line += " error: " + l.last_error();
  }
  return line;
}

void WriteStatusFile(const std::string& name, const std::string& json) {
  std::error_code ec;
  std::filesystem::create_directories(StatusDir(), ec);
  const std::string path = StatusDir() + "/" + name + ".json";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json << "\n";
  }
  std::filesystem::rename(tmp, path, ec);
}

// Runs a started project until a signal, `seconds` elapse, or a link fails.
int Follow(duosync::Project* project, const Args& args) {
  const bool tty = isatty(STDOUT_FILENO) && !args.json;
  const auto start = std::chrono::steady_clock::now();
  auto last_line = start - std::chrono::seconds(10);
  int exit_code = kExitOk;
  while (!g_stop) {
    std::string json = project->StatusJson();
    WriteStatusFile(project->name(), json);
    auto status = duosync::FromJson<duosync::report::ProjectStatus>(json);
    const auto now = std::chrono::steady_clock::now();
    if (args.json) {
      if (now - last_line >= std::chrono::seconds(1)) {
        std::cout << json << std::endl;
        last_line = now;
      }
    } else if (tty) {
      std::cout << "\r\033[K" << ProgressLine(status, /*tty=*/true) << std::flush;
    } else if (now - last_line >= std::chrono::seconds(5)) {
      std::cout << ProgressLine(status) << std::endl;
      last_line = now;
    }
    if (status.state() == "failed") {
      exit_code = kExitFailure;
      break;
    }
    if (args.seconds > 0 && now - start >= std::chrono::seconds(args.seconds)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  (void)project->Stop();
  std::string json = project->StatusJson();
  WriteStatusFile(project->name(), json);
  if (tty) std::cout << "\n";
  std::cout << (args.json ? json : ProgressLine(duosync::FromJson<duosync::report::ProjectStatus>(json)))
            << std::endl;
  return exit_code;
}

// Loads FILE (the one positional argument of `command`) and prechecks it; null with *exit_code
// set when that fails.
std::unique_ptr<duosync::Project> LoadChecked(const Args& args, const std::string& command,
                                              int* exit_code) {
  if (args.positional.size() != 1) {
    *exit_code = Usage(command + " needs exactly one FILE");
    return nullptr;
  }
  auto project = Load(args.positional[0], exit_code);
  if (!project) return nullptr;
  bool ok = false;
  std::string report = project->Precheck(&ok);
  if (!ok) {
    if (args.json) std::cout << report << "\n";
    else PrintPrecheck(report);
    *exit_code = kExitPrecheckFailed;
    return nullptr;
  }
  return project;
}

int Run(const Args& args) {
  int code = 0;
  auto project = LoadChecked(args, "run", &code);
  if (!project) return code;
  absl::Status started = project->Start();
  if (!started.ok()) {
    std::cerr << "duosync: cannot start: " << started.message() << "\n";
    return kExitFailure;
  }
  std::unique_ptr<duosync::StatusServer> server;
  if (!args.listen.empty()) {
    duosync::Project* p = project.get();
    auto listening = duosync::StatusServer::Start(
        args.listen,
        [p] {
          return std::vector<duosync::report::ProjectStatus>{
              duosync::FromJson<duosync::report::ProjectStatus>(p->StatusJson())};
        },
        [p] {
          std::string json = "{";
          duosync::AppendJsonString(p->name(), &json);
          return absl::StrCat(json, ":", p->ConflictsJson(), "}");
        });
    if (!listening.ok()) {
      std::cerr << "duosync: " << listening.status().message() << "\n";
      (void)project->Stop();
      return kExitUsage;
    }
    server = *std::move(listening);
    // On stderr, so that --json keeps stdout to status lines.
    std::cerr << "duosync: serving http://" << server->host() << ":" << server->port()
              << "/ (console), /metrics (Prometheus) and /status (JSON)" << std::endl;
  }
  return Follow(project.get(), args);
}

int Verify(const Args& args) {
  if (args.positional.size() != 1) return Usage("verify needs exactly one FILE");
  int code = 0;
  auto project = Load(args.positional[0], &code);
  if (!project) return code;
  bool equal = false;
  auto report = project->Verify(args.repair, &equal);
  if (!report.ok()) {
    std::cerr << "duosync: verification failed: " << report.status().message() << "\n";
    return kExitFailure;
  }
  if (args.json) {
    std::cout << *report << "\n";
  } else {
    const auto r = duosync::FromJson<google::protobuf::Struct>(*report);
    const auto& f = r.fields();
    for (const auto& t : f.at("tables").list_value().values()) {
      const auto& tf = t.struct_value().fields();
      std::cout << absl::StrFormat("%-40s %8.0f rows", tf.at("table").string_value(),
                                   tf.at("rows_checked").number_value());
      for (const char* kind : {"missing", "extra", "different"}) {
        const auto& keys = tf.at(kind).list_value().values();
        if (keys.empty()) continue;
        std::cout << "  " << keys.size() << " " << kind << " (";
        for (int i = 0; i < keys.size() && i < 5; ++i) std::cout << (i ? "; " : "") << keys[i].string_value();
        std::cout << (keys.size() > 5 ? "; ..." : "") << ")";
      }
      std::cout << "\n";
    }
    std::cout << absl::StrFormat("%.0f rows in %.1f s: %s%s\n", f.at("rows_checked").number_value(),
                                 f.at("seconds").number_value(), equal ? "equal" : "DIFFERENT",
                                 f.at("repaired").bool_value() ? " (repaired)" : "");
  }
  return equal ? kExitOk : kExitDifferent;
}

int Conflicts(const Args& args) {
  if (args.positional.size() != 1) return Usage("conflicts needs exactly one FILE");
  int code = 0;
  auto project = Load(args.positional[0], &code);
  if (!project) return code;
  const std::string json = project->ConflictsJson();
  if (args.json) {
    std::cout << json << "\n";
    return kExitOk;
  }
  const auto log = duosync::FromJson<google::protobuf::Struct>(json);
  bool failed = false;
  for (const auto& [link, value] : log.fields()) {
    const auto& f = value.struct_value().fields();
    std::cout << link << ": " << f.at("total").number_value() << " conflict(s)";
    if (f.count("error")) {
      std::cout << " seen by this process; " << f.at("error").string_value();
      failed = true;
    }
    std::cout << "\n";
    for (const auto& c : f.at("conflicts").list_value().values()) {
      const auto& r = c.struct_value().fields();
      const absl::Time at = absl::FromUnixSeconds(static_cast<int64_t>(r.at("time").number_value()));
      std::cout << "  " << absl::FormatTime("%Y-%m-%d %H:%M:%S", at, absl::UTCTimeZone()) << "  "
                << r.at("operation").string_value() << " " << r.at("table").string_value() << " ("
                << r.at("key").string_value() << ") " << r.at("policy").string_value() << ": "
                << r.at("outcome").string_value() << "\n      because " << r.at("reason").string_value()
                << "\n      incoming: " << r.at("incoming_before").string_value() << " -> "
                << r.at("incoming_after").string_value() << "\n      destination had: "
                << r.at("destination").string_value() << "\n";
      if (!r.at("colliding").string_value().empty()) {
        std::cout << "      rows holding its unique values: " << r.at("colliding").string_value() << "\n";
      }
    }
  }
  return failed ? kExitFailure : kExitOk;
}

int Replay(const Args& args) {
  if (args.positional.size() != 1) return Usage("replay needs exactly one FILE");
  if (args.from.empty()) return Usage("replay needs --from WHEN");
  int code = 0;
  auto project = Load(args.positional[0], &code);
  if (!project) return code;
  auto rewound = project->Replay(args.link, args.from);
  if (!rewound.ok()) {
    std::cerr << "duosync: replay failed: " << rewound.status().message() << "\n";
    return absl::IsInvalidArgument(rewound.status()) || absl::IsNotFound(rewound.status()) ? kExitUsage
                                                                                           : kExitFailure;
  }
  std::cout << "the " << args.link << " link is rewound to " << (rewound->empty() ? "its store's start" : *rewound)
            << "; `duosync run " << args.positional[0] << "` applies everything after it again\n";
  return kExitOk;
}

int Switchover(const Args& args) {
  int code = 0;
  auto project = LoadChecked(args, "switchover", &code);
  if (!project) return code;
  absl::Status s = project->Start();
  if (s.ok()) {
    std::cout << "catching the forward link up" << (args.read_only ? " (A is now read-only)" : "")
              << "...\n";
    s = project->Switchover(args.read_only, absl::Minutes(10));
  }
  if (!s.ok()) {
    std::cerr << "duosync: switchover failed: " << s.message() << "\n";
    (void)project->Stop();
    return kExitFailure;
  }
  std::cout << "switched over: B is the source now; the reverse link applies B's changes to A\n";
  return Follow(project.get(), args);
}

int Status(const Args& args) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(StatusDir(), ec)) {
    if (entry.path().extension() != ".json") continue;
    if (!args.positional.empty() && entry.path().stem() != args.positional[0]) continue;
    files.push_back(entry.path());
  }
  if (files.empty()) {
    std::cerr << "duosync: no project status found in " << StatusDir()
              << (args.positional.empty() ? "" : " for " + args.positional[0])
              << " (is `duosync run` running?)\n";
    return kExitFailure;
  }
  for (const auto& f : files) {
    std::string json, problem;
    if (!ReadFile(f.string(), &json, &problem)) continue;
    if (args.json) std::cout << json;
    else std::cout << ProgressLine(duosync::FromJson<duosync::report::ProjectStatus>(json)) << "\n";
  }
  return kExitOk;
}

int Servers(const Args& args) {
  if (args.count < 1 || args.count > 8) return Usage("--count must be 1..8");
  auto servers = duosync::harness::StartServers(args.count);
  if (!servers.ok()) {
    std::cerr << "duosync: cannot start servers: " << servers.status().message() << "\n";
    return kExitFailure;
  }
  std::string json = "[";
  for (size_t i = 0; i < servers->size(); ++i) {
    const auto& s = (*servers)[i];
    std::string e = s->EndpointJson();
    e.pop_back();
    json += absl::StrCat(i ? "," : "", e, ",\"server_id\":", s->server_id(), ",\"dir\":\"",
                         s->dir(), "\"}");
  }
  std::cout << json << "]" << std::endl;
  // Keep the servers until our stdin closes (the parent test ended) or a signal arrives.
  std::thread watcher([] {
    char buf[256];
    while (read(STDIN_FILENO, buf, sizeof buf) > 0) {
    }
    g_stop = true;
  });
  watcher.detach();
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  // Warnings and errors on stderr; GLOG_minloglevel=0 shows progress details too.
  FLAGS_logtostderr = true;
  if (std::getenv("GLOG_minloglevel") == nullptr) FLAGS_minloglevel = google::GLOG_WARNING;
  google::InitGoogleLogging(argv[0]);
  google::InstallFailureSignalHandler();  // a crash prints where it happened
  if (argc < 2) return Usage("");
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  signal(SIGPIPE, SIG_IGN);
  const std::string command = argv[1];
  if (command == "-h" || command == "--help" || command == "help") {
    std::cout << kUsage;
    return kExitOk;
  }
  Args args;
  std::string problem;
  if (!ParseArgs(argc, argv, &args, &problem)) return Usage(problem);
  if (command == "version") {
    std::cout << "duosync " << duosync::kVersion << "\n";
    return kExitOk;
  }
  if (command == "validate") return Validate(args);
  if (command == "precheck") return Precheck(args);
  if (command == "run") return Run(args);
  if (command == "status") return Status(args);
  if (command == "servers") return Servers(args);
  if (command == "switchover") return Switchover(args);
  if (command == "replay") return Replay(args);
  if (command == "conflicts") return Conflicts(args);
  if (command == "binlog") {
    if (args.positional.empty()) return Usage("binlog needs at least one FILE");
    return duosync::PrintBinlogFiles(args.positional, args.json, std::cout, std::cerr);
  }
  if (command == "verify") return Verify(args);
  if (command == "demo") {
    return duosync::RunDemo(args.seconds > 0 ? args.seconds : 20, &g_stop,
                            args.listen.empty() ? "127.0.0.1:0" : args.listen);
  }
  return Usage("unknown command '" + command + "'");
}
