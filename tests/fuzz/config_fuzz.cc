// Fuzz target of the project config (src/config/validation.h, resolved_config.h): whatever JSON a
// user, the CLI or a binding hands over, ParseProjectJson, ApplyDefaults, ValidateProject and,
// for a config that validates, ResolveProject and the object selection it leads to must not
// crash, hang or hit undefined behaviour, and must keep the promises below.
//
// The input is the JSON text. Files a config names are not opened as named: a password_file
// becomes a harness file (readable when the name's length is odd, missing when even), so inputs
// cannot make the target read /dev/zero or a terminal. TLS file names are only checked with
// access(), as validation does.
//
// Promises checked for each input (Fail() aborts with what broke):
//   - a config that does not parse fails with InvalidArgument and a short message that starts
//     as documented (SafeJsonError caps it; a config's text is never echoed at length);
//   - ApplyDefaults is idempotent; validating twice gives the same report; the report is ok
//     exactly when it has no error; every problem names its field, says what and how to fix it;
//     SummarizeErrors is empty exactly when there is no error;
//   - a config that validates resolves: link ids "<name>/forward" and "<name>/reverse", a reverse
//     link exactly when configured, the links' loop guards mirror each other, apply and copy
//     settings in range, a record store directory under data_dir when records are kept;
//   - each table a resolved link names one by one is selected (unless in a system schema), to
//     a destination name validation accepts, with a row filter that parses.
//
// Built as `config_fuzz` (Clang, -DDUOSYNC_FUZZ=ON: libFuzzer, tests/fuzz/run_fuzz.sh) and as
// `config_corpus` (the normal build: replays tests/fuzz/corpus_config plus deterministic
// mutations). `config_corpus --write-seeds DIR` writes the seeds.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "base/names.h"
#include "base/system_schemas.h"
#include "config/object_selector.h"
#include "config/resolved_config.h"
#include "config/row_filter.h"
#include "config/validation.h"
#include "duosync/config.pb.h"
#include "duosync/report.pb.h"
#include "fuzz_support.h"
#include "glog/logging.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/message_differencer.h"

namespace {

using duosync_fuzz::Fail;
using google::protobuf::util::MessageDifferencer;
namespace config = duosync::config;
namespace report = duosync::report;

const bool kNamed = duosync_fuzz::NameTarget("config_fuzz");

constexpr absl::string_view kParsePrefix = "config is not valid project JSON: ";

// The harness's password file and a name that does not exist.
struct Files {
  std::string password_file, missing;
};

const Files& GetFiles() {
  static const Files* files = [] {
    if (getenv("DUOSYNC_FUZZ_VERBOSE") == nullptr) {
      FLAGS_minloglevel = google::GLOG_FATAL;
      google::protobuf::SetLogHandler(nullptr);  // protobuf logs what it cannot parse
    }
    auto* f = new Files;
    const char* tmp = getenv("TMPDIR");
    std::string dir = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/duosync-config-fuzz-XXXXXX");
    if (mkdtemp(dir.data()) == nullptr) Fail("harness: mkdtemp failed");
    f->password_file = dir + "/password";
    f->missing = dir + "/missing";
    FILE* out = fopen(f->password_file.c_str(), "w");
    if (out == nullptr) Fail("harness: cannot write " + f->password_file);
    fputs("fuzz-password\n", out);
    fclose(out);
    static std::string to_remove;
    to_remove = dir;
    atexit([] {
      unlink((to_remove + "/password").c_str());
      rmdir(to_remove.c_str());
    });
    return f;
  }();
  return *files;
}

std::string HarnessFile(const std::string& named) {
  return named.size() % 2 == 1 ? GetFiles().password_file : GetFiles().missing;
}

void NeutralizeFiles(config::Project* p) {
  for (config::Endpoint* e : {p->mutable_endpoints()->mutable_a(), p->mutable_endpoints()->mutable_b()}) {
    if (!e->password_file().empty()) e->set_password_file(HarnessFile(e->password_file()));
  }
  if (p->has_coordination() && !p->coordination().password_file().empty()) {
    p->mutable_coordination()->set_password_file(HarnessFile(p->coordination().password_file()));
  }
}

void CheckReport(const report::ValidationReport& r) {
  if (r.ok() != (r.errors_size() == 0)) Fail(absl::StrCat("report ok ", r.ok(), " with ", r.errors_size(), " errors"));
  for (const auto* problems : {&r.errors(), &r.warnings()}) {
    for (const report::Problem& p : *problems) {
      if (p.field().empty() || p.message().empty() || p.fix().empty()) {
        Fail(absl::StrCat("a problem without field, message or fix: ", p.ShortDebugString()));
      }
    }
  }
  if (duosync::SummarizeErrors(r).empty() != (r.errors_size() == 0)) {
    Fail("SummarizeErrors is empty though there are errors, or the reverse");
  }
}

void CheckLink(const config::Project& p, const duosync::LinkConfig& link, const std::string& direction) {
  const std::string where = absl::StrCat("the resolved ", direction, " link");
  if (link.id != absl::StrCat(p.name(), "/", direction)) Fail(absl::StrCat(where, " has id '", link.id, "'"));
  if (link.active_active != (p.scenario() == config::ACTIVE_ACTIVE)) Fail(where + ": active_active is wrong");
  if (link.incremental != duosync::HasMigrationType(link.link, config::INCREMENTAL) ||
      link.full_copy != duosync::HasMigrationType(link.link, config::FULL) ||
      link.schema_migration != duosync::HasMigrationType(link.link, config::SCHEMA)) {
    Fail(where + ": its migration types are resolved wrong");
  }
  // (Batch limits are not capped: one above INT_MAX wraps negative here and reaches the applier
  // as a size_t again, the "no limit" it asked for; zero would mean no batch.)
  if (link.apply_workers < 1 || link.apply_workers > 256 || link.apply_batch_transactions == 0 ||
      link.apply_batch_rows == 0 || link.copy.threads < 1 || link.copy.chunk_rows < 1) {
    Fail(absl::StrCat(where, ": apply or copy settings out of range (workers ", link.apply_workers, ")"));
  }
  if (link.link.dml_size() == 0) Fail(where + ": no DML operations after defaults");
  if (link.keeps_records) {
    if (!absl::StartsWith(link.store_dir, p.data_dir() + "/") || p.data_dir().empty()) {
      Fail(absl::StrCat(where, ": keeps records in '", link.store_dir, "', not under data_dir"));
    }
    if (link.retention <= absl::ZeroDuration()) Fail(where + ": keeps records for no time");
  }

  duosync::ObjectSelector selector(link.objects, link.case_insensitive);
  for (const duosync::TableRef& t : selector.named_tables()) {
    if (duosync::IsSystemSchema(t.schema)) continue;
    const std::optional<duosync::SelectedTable> s = selector.Select(t);
    if (!s.has_value()) Fail(absl::StrCat(where, ": the named table ", t.ToString(), " is not selected"));
    if (!selector.MayHoldSchema(t.schema)) Fail(absl::StrCat(where, ": schema ", t.schema, " of a named table may hold nothing"));
    const std::string schema_why = duosync::CheckObjectName(s->destination.schema, "schema");
    const std::string table_why = duosync::CheckObjectName(s->destination.table, "table");
    if (!schema_why.empty() || !table_why.empty()) {
      Fail(absl::StrCat(where, ": ", t.ToString(), " goes to a destination validation refuses: ", schema_why, table_why));
    }
    if (!s->where.empty()) {
      auto filter = duosync::RowFilter::Parse(s->where);
      if (!filter.ok()) Fail(absl::StrCat(where, ": ", t.ToString(), "'s validated row filter does not parse"));
    }
  }
}

void CheckResolved(const config::Project& p) {
  const duosync::ProjectConfig pc = duosync::ResolveProject(p);
  if (!MessageDifferencer::Equals(pc.raw, p)) Fail("the resolved config's raw project is not the validated one");
  if (pc.reverse.has_value() != p.has_reverse()) Fail("a reverse link resolved exactly when not configured");
  CheckLink(p, pc.forward, "forward");
  if (pc.reverse.has_value()) {
    CheckLink(p, *pc.reverse, "reverse");
    const duosync::LoopGuard& f = pc.forward.guard;
    const duosync::LoopGuard& r = pc.reverse->guard;
    if (f.own_origin != r.drop_origin || r.own_origin != f.drop_origin) {
      Fail("the links' loop guards do not mirror each other (what one applier tags, the other reader must drop)");
    }
    if (pc.forward.incoming_has_priority == pc.reverse->incoming_has_priority && pc.forward.active_active) {
      Fail("both links, or neither, bring the priority region's changes");
    }
  }
  if (p.has_coordination() && pc.coordination.etcd_endpoints.size() != static_cast<size_t>(p.coordination().etcd_endpoints_size())) {
    Fail("the coordination's etcd endpoints are resolved wrong");
  }
}

int RunOne(const uint8_t* data, size_t size) {
  GetFiles();
  const std::string json = duosync_fuzz::Bytes(data, size);
  auto parsed = duosync::ParseProjectJson(json);
  if (!parsed.ok()) {
    const absl::Status& s = parsed.status();
    if (!absl::IsInvalidArgument(s) || !absl::StartsWith(s.message(), kParsePrefix) ||
        s.message().size() > kParsePrefix.size() + 303) {
      Fail(absl::StrCat("ParseProjectJson failed other than documented: ", s.ToString().substr(0, 500)));
    }
    return 0;
  }
  config::Project p = *std::move(parsed);
  NeutralizeFiles(&p);
  duosync::ApplyDefaults(&p);
  config::Project again = p;
  duosync::ApplyDefaults(&again);
  if (!MessageDifferencer::Equals(p, again)) Fail("ApplyDefaults is not idempotent");

  const report::ValidationReport r = duosync::ValidateProject(p);
  CheckReport(r);
  if (!MessageDifferencer::Equals(r, duosync::ValidateProject(p))) Fail("validating twice gives different reports");
  if (r.ok()) CheckResolved(p);
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return RunOne(data, size); }

#ifdef DUOSYNC_FUZZ_REPLAY_MAIN
namespace {

// Valid configs of tests/unit/validation_test.cc and variations on them (every section), and a
// few that do not parse.
std::string ActiveActive() {
  return R"({
    "name": "orders-sync", "tags": ["prod"], "scenario": "ACTIVE_ACTIVE", "tenant_mode": "MYSQL",
    "data_dir": "/var/lib/duosync",
    "endpoints": {
      "a": {"region": "hangzhou", "host": "10.0.0.1", "port": 2881, "user": "u", "password": "p"},
      "b": {"region": "shanghai", "host": "10.0.0.2", "port": 2881, "user": "u", "password": "p"}},
    "forward": {"migration_types": ["SCHEMA", "FULL", "INCREMENTAL", "FULL_VERIFICATION"],
                "dml": ["INSERT", "UPDATE", "DELETE"], "ddl": true,
                "objects": {"rules": {"whitelist": ["shop.*"], "blacklist": ["shop.tmp_*"]}},
                "options": {"full_concurrency": "FAST", "retention_hours": 24}},
    "reverse": {"migration_types": ["INCREMENTAL"]}
  })";
}

std::string Migration(const std::string& objects) {
  return absl::StrCat(R"({
    "name": "m", "scenario": "DATA_MIGRATION",
    "endpoints": {
      "a": {"host": "127.0.0.1", "port": 3306, "user": "u"},
      "b": {"host": "127.0.0.1", "port": 3307, "user": "u"}},
    "forward": {"migration_types": ["INCREMENTAL"], "objects": )", objects, "}}");
}

std::string Replace(const std::string& json, const std::string& from, const std::string& to) {
  if (json.find(from) == std::string::npos) Fail("seeds: '" + from + "' not found");
  return absl::StrReplaceAll(json, {{from, to}});
}

std::vector<std::string> Seeds() {
  const std::string aa = ActiveActive();
  const std::string a_endpoint = R"("a": {"region": "hangzhou", "host": "10.0.0.1", "port": 2881, "user": "u", "password": "p"})";
  const std::string reverse = R"("reverse": {"migration_types": ["INCREMENTAL"]})";
  return {
      aa,
      Migration(R"({"tables": [{"schema": "s", "table": "t"}]})"),
      Migration(R"({"import": "s.t1|s.t2|"})"),
      Migration(R"j({"tables": [{"schema": "s", "table": "t", "rename": "x.y",
          "where": "id > 10 AND status IN ('a','b')", "columns": ["id", "status"]},
          {"schema": "S", "table": "u", "rename": "v", "where": "`d` BETWEEN '2024-01-01' AND 20241231"}],
          "import": "s.w|"})j"),
      Replace(Migration(R"({"import": "s.t"})"), R"("a": {"host": "127.0.0.1", "port": 3306, "user": "u"})",
              R"("a": {"binlog_dir": "/backups/binlogs"})"),
      Replace(aa, R"("data_dir": "/var/lib/duosync",)",
              R"("data_dir": "/var/lib/duosync", "coordination": {"etcd_endpoints": ["http://10.0.0.5:2379",
               "https://e:2379"], "tls": {"ca": "/etc/hostname", "cert": "c", "key": "k"}, "user": "root",
               "password_file": "/run/secrets/etcd", "lease_ttl_seconds": 5, "key_prefix": "/duosync"},)"),
      Replace(aa, a_endpoint,
              R"("a": {"region": "hangzhou", "host": "10.0.0.1", "port": 2881, "user": "u", "password_env": "HOME",
               "tls": {"ca": "/etc/hostname", "verify_server_cert": false, "required": false}, "binlog_enabled": true,
               "tenant_mode": "MYSQL"})"),
      Replace(aa, reverse,
              R"("reverse": {"migration_types": ["INCREMENTAL"], "objects": {"tables": [{"schema": "shop", "table": "t"}]},
               "start_gtid": "0-1-100,1-2-3", "options": {"apply_workers": 4, "apply_batch_transactions": 1,
               "apply_batch_rows": 10, "serial_tables": ["shop.t"], "destination_timeout_seconds": 60}},
               "active_active": {"loop_prevention": "MARKER_TABLE", "conflicts": {"policy": "LAST_WRITER_WINS",
               "column": "ver", "tables": [{"schema": "shop", "table": "t", "policy": "REGION_PRIORITY"}],
               "priority_region": "SHANGHAI"}})"),
      Replace(aa, reverse,
              R"("reverse": {"migration_types": ["INCREMENTAL"]}, "active_active": {"loop_prevention":
               "SESSION_ORIGIN", "forward_origin_id": 7, "reverse_origin_id": 9, "conflicts": {"policy": "STOP"}})"),
      Replace(aa, R"("objects": {"rules": {"whitelist": ["shop.*"], "blacklist": ["shop.tmp_*"]}})",
              R"("objects": {"rules": {"whitelist": ["shop.*", "s?.o*"], "schema_renames": {"shop": "shop_b"},
               "tables": [{"schema": "shop", "table": "orders", "rename": "o2", "where": "id > 0 OR note IS NULL",
               "columns": ["id", "note"]}]}}, "start_gtid": "0-1-5")"),
      Replace(Migration(R"({"import": "s.t"})"), R"("migration_types": ["INCREMENTAL"])",
              R"("migration_types": ["SCHEMA", "FULL", "FULL_VERIFICATION"], "options": {"verify_concurrency": "SMOOTH",
               "post_indexing": true, "allow_nonempty_destination": true, "store_segment_mb": 8})"),
      Replace(aa, R"("tenant_mode": "MYSQL")", R"("tenant_mode": "ORACLE")"),
      R"({"name": "", "endpoints": {}, "forward": {"objects": {}}})",
      R"({"name": "x", "colour": "red"})",
      R"({"endpoints": {"a": {"password": 86421357}}})",
      R"({"endpoints": {"a": {"port": "hunter2secret"}}, "scenario": "SIDEWAYS"})",
      R"({"forward": {"migration_types": ["INCREMENTAL", "INCREMENTAL", 0], "dml": ["DML_OP_UNSPECIFIED"]}})",
  };
}

int WriteSeeds(const std::string& dir, const std::vector<std::string>&) {
  int i = 0;
  for (const std::string& seed : Seeds()) {
    duosync_fuzz::WriteWholeFile(absl::StrCat(dir, "/seed-", i < 10 ? "0" : "", i, ".json"), seed);
    ++i;
  }
  printf("%d seeds written to %s\n", i, dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  duosync_fuzz::Replay replay;
  replay.write_seeds = WriteSeeds;
  return duosync_fuzz::ReplayMain(argc, argv, DUOSYNC_FUZZ_CORPUS_DIR, replay);
}
#endif  // DUOSYNC_FUZZ_REPLAY_MAIN
