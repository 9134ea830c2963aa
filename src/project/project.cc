#include "duosync/project.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "apply/conflict_log.h"
#include "apply/checkpoint_tables.h"
#include "apply/fence.h"
#include "base/gtid_position.h"
#include "base/json_text.h"
#include "base/link_direction.h"
#include "base/status_macros.h"
#include "base/system_schemas.h"
#include "config/object_selector.h"
#include "config/resolved_config.h"
#include "config/validation.h"
#include "coord/etcd_options.h"
#include "coord/link_coordinator.h"
#include "full/verifier.h"
#include "google/protobuf/util/json_util.h"
#include "link/link.h"
#include "project/event_dispatcher.h"
#include "project/precheck.h"
#include "project/switchover.h"
#include "sql/catalog.h"
#include "sql/destination_session.h"
#include "sql/sql_literal.h"
#include "sql/statement_pieces.h"

namespace duosync {

struct Project::Rep {
  config::Project config;  // validated, defaults applied
  ProjectConfig resolved;  // the same, resolved once for the stages
  report::ValidationReport validation;
  mutable std::mutex mu;
  std::vector<std::unique_ptr<Link>> links;  // guarded by mu
  std::string state = "created";             // guarded by mu
  std::unique_ptr<EventDispatcher> events;
  std::optional<report::VerificationSummary> last_verification;  // guarded by mu
  // Coordinated mode: runs the links etcd gives this process. Set while running; `links` does not
  // change meanwhile (the coordinator's hooks use them without mu).
  std::unique_ptr<LinkCoordinator> coordinator;

  Link* FindLink(const std::string& name) {
    for (auto& l : links) {
      if (l->Status().name() == name) return l.get();
    }
    return nullptr;
  }
  // Operations that start or stop a link by hand would race the coordinator (which starts,
  // stops and moves links on its own) and lose their effect at the next takeover.
  absl::Status RefuseWhenCoordinated(absl::string_view what) const {
    if (resolved.coordination.etcd_endpoints.empty()) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        what, " is not available in coordinated mode (the coordinator starts, stops and moves the links): "
        "stop the coordinated processes and run it with one process started without the coordination section"));
  }
};

namespace {

std::string ToJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

std::string DescribeEndpoint(const config::Endpoint& e) {
  return absl::StrCat(e.user(), ":***@", e.host(), ":", e.port());
}

// Borrows `link` for a repair (fence.h): holds its lend lock on *lock_conn and takes ownership as
// a borrower; a process running the link is fenced until *lock_conn closes. Null: the link has
// never run (no checkpoint), so there is nothing to borrow.
absl::StatusOr<std::unique_ptr<CheckpointTables>> BorrowLink(const LinkConfig& link,
                                                             std::unique_ptr<SqlConnection>* lock_conn) {
  auto tables = CheckpointTables::Connect(link.destination, link.id, link.guard.own_origin);
  if (!tables.ok()) return tables.status();
  DUO_RETURN_IF_ERROR((*tables)->EnsureTables());
  auto checkpoint = (*tables)->ReadCheckpoint();
  if (!checkpoint.ok()) return checkpoint.status();
  if (!checkpoint->has_value()) return std::unique_ptr<CheckpointTables>();
  auto conn = SqlConnection::Connect(link.destination);
  if (!conn.ok()) return conn.status();
  DUO_RETURN_IF_ERROR(HoldLendLock(conn->get(), link.id, absl::Seconds(60)));
  auto stage = (*tables)->ReadStage();
  if (!stage.ok()) return stage.status();
  if (stage->first != "incremental") {
    return absl::FailedPreconditionError(absl::StrCat(
        "the ", LinkName(link.direction), " link is in its ", stage->first, " stage: repair once it "
        "runs incremental"));
  }
  auto epoch = (*tables)->TakeOwnership(BorrowerName("verify --repair"));
  if (!epoch.ok()) return epoch.status();
  *lock_conn = std::move(*conn);
  return std::move(*tables);
}

}  // namespace

Project::Project(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {
  rep_->events = std::make_unique<EventDispatcher>([this] { return StatusJson(); });
}

Project::~Project() {
  (void)Stop();
  rep_->events.reset();  // no callback after destruction
}

void Project::SetEventCallback(std::function<int(int event, const std::string& json)> callback) {
  rep_->events->SetCallback(std::move(callback));
}

std::string Project::Validate(absl::string_view config_json, bool* ok) {
  auto parsed = ParseProjectJson(config_json);
  report::ValidationReport report;
  if (!parsed.ok()) {
    auto* e = report.add_errors();
    e->set_message(std::string(parsed.status().message()));
    e->set_fix("write the config as JSON matching proto/duosync/config.proto");
  } else {
    ApplyDefaults(&*parsed);
    report = ValidateProject(*parsed);
  }
  report.set_ok(report.errors_size() == 0);
  if (ok != nullptr) *ok = report.ok();
  return ToJson(report);
}

absl::StatusOr<std::unique_ptr<Project>> Project::Create(absl::string_view config_json) {
  auto parsed = ParseProjectJson(config_json);
  if (!parsed.ok()) return parsed.status();
  ApplyDefaults(&*parsed);
  auto rep = std::make_unique<Rep>();
  rep->validation = ValidateProject(*parsed);
  if (!rep->validation.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid project config: ", SummarizeErrors(rep->validation)));
  }
  rep->config = *std::move(parsed);
  rep->resolved = ResolveProject(rep->config);
  return std::unique_ptr<Project>(new Project(std::move(rep)));
}

const std::string& Project::name() const { return rep_->config.name(); }

std::string Project::ValidationJson() const { return ToJson(rep_->validation); }

std::string Project::Precheck(bool* ok) {
  report::PrecheckReport report = RunPrecheck(rep_->resolved);
  if (ok != nullptr) *ok = report.ok();
  return ToJson(report);
}

absl::Status Project::Start() {
  std::lock_guard<std::mutex> lock(rep_->mu);
  if (rep_->state == "running") return absl::FailedPreconditionError("the project is already running");
  if (rep_->config.tenant_mode() == config::ORACLE) {
    return absl::UnimplementedError("ORACLE tenant mode links are not supported by this build");
  }
  rep_->links.clear();
  std::vector<LinkConfig> configs = {rep_->resolved.forward};
  if (rep_->resolved.reverse.has_value()) {
    configs.push_back(*rep_->resolved.reverse);
  } else {
    // A one-way project runs the way its last switchover left it.
    auto direction = ActiveDirection(rep_->resolved);
    if (!direction.ok()) return direction.status();
    if (*direction == LinkDirection::kReverse) configs = {ReverseOf(rep_->config)};
  }
  for (const LinkConfig& config : configs) {
    auto link = Link::Create(config);
    if (!link.ok()) return link.status();
    (*link)->SetEventHandler([events = rep_->events.get()](int e, const std::string& json) {
      events->Post(e, json);
    });
    rep_->links.push_back(std::move(*link));
  }
  if (!rep_->resolved.coordination.etcd_endpoints.empty()) {
    absl::Status s = StartCoordinated();
    if (!s.ok()) {
      rep_->state = "failed";
      return s;
    }
    rep_->state = "running";
    rep_->events->SetRunning(true);
    return absl::OkStatus();
  }
  for (auto& link : rep_->links) {
    absl::Status s = link->Start();
    if (!s.ok()) {
      for (auto& l : rep_->links) l->Stop();
      rep_->state = "failed";
      return s;
    }
  }
  rep_->state = "running";
  rep_->events->SetRunning(true);
  return absl::OkStatus();
}

absl::Status Project::StartCoordinated() {
  const CoordinationConfig& c = rep_->resolved.coordination;
  CoordinatorSettings settings;
  settings.etcd = EtcdOptionsFor(c);
  settings.lease_ttl_seconds = c.lease_ttl_seconds;
  // A renewal tries each endpoint in turn: a dead member costs one timeout, which must stay under
  // the third of the TTL after which this process stops its links, yet let a busy etcd answer.
  settings.etcd.timeout = std::clamp(absl::Seconds(c.lease_ttl_seconds) / 3, absl::Milliseconds(500),
                                     absl::Seconds(2));
  settings.key_prefix = c.key_prefix;
  settings.project = rep_->config.name();
  for (auto& l : rep_->links) settings.links.push_back(l->Status().name());
  Rep* rep = rep_.get();
  CoordinatorHooks hooks;
  hooks.start = [rep](const std::string& name) -> absl::StatusOr<uint64_t> {
    Link* link = rep->FindLink(name);
    if (link == nullptr) return absl::NotFoundError(absl::StrCat("no ", name, " link"));
    link->Stop();  // joins a thread that ended by itself (taken over before)
    DUO_RETURN_IF_ERROR(link->Start());
    return link->Status().epoch();
  };
  hooks.stop = [rep](const std::string& name) {
    if (Link* link = rep->FindLink(name)) link->Stop();
  };
  hooks.state = [rep](const std::string& name) -> absl::Status {
    Link* link = rep->FindLink(name);
    if (link == nullptr) return absl::OkStatus();
    absl::Status s = link->Wait(absl::ZeroDuration());
    return absl::IsDeadlineExceeded(s) ? absl::OkStatus() : s;
  };
  // Where each link starts is durable before Start returns, as without coordination: the link
  // may run in another process, seconds from now.
  for (auto& l : rep_->links) {
    auto recorded = l->RecordStart();
    if (!recorded.ok()) return recorded.status();
  }
  auto coordinator = LinkCoordinator::Start(settings, std::move(hooks));
  if (!coordinator.ok()) return coordinator.status();
  rep_->coordinator = *std::move(coordinator);
  return absl::OkStatus();
}

absl::Status Project::Stop() {
  std::unique_ptr<LinkCoordinator> coordinator;
  {
    std::lock_guard<std::mutex> lock(rep_->mu);
    coordinator = std::move(rep_->coordinator);
  }
  // Outside mu: it stops the links it runs (their status stays readable meanwhile).
  if (coordinator != nullptr) coordinator->Stop();
  std::lock_guard<std::mutex> lock(rep_->mu);
  for (auto& link : rep_->links) link->Stop();
  if (rep_->state == "running") rep_->state = "stopped";
  rep_->events->SetRunning(false);
  return absl::OkStatus();
}

absl::Status Project::Pause(absl::string_view link) {
  std::lock_guard<std::mutex> lock(rep_->mu);
  if (rep_->state != "running") return absl::FailedPreconditionError("the project is not running");
  DUO_RETURN_IF_ERROR(rep_->RefuseWhenCoordinated("pause"));
  bool found = false;
  for (auto& l : rep_->links) {
    if (link.empty() || l->Status().name() == link) {
      // A link a switchover stopped stays stopped (pausing it would let Resume start it).
      if (l->Status().stage() != "stopped") l->Pause();
      found = true;
    }
  }
  return found ? absl::OkStatus() : absl::NotFoundError(absl::StrCat("no link '", link, "' (forward, reverse)"));
}

absl::Status Project::Resume(absl::string_view link) {
  std::lock_guard<std::mutex> lock(rep_->mu);
  if (rep_->state != "running") return absl::FailedPreconditionError("the project is not running");
  DUO_RETURN_IF_ERROR(rep_->RefuseWhenCoordinated("resume"));
  bool found = false;
  for (auto& l : rep_->links) {
    if (!link.empty() && l->Status().name() != link) continue;
    found = true;
    if (l->Status().stage() != "paused") continue;
    absl::Status s = l->Start();
    if (!s.ok()) return s;
  }
  return found ? absl::OkStatus() : absl::NotFoundError(absl::StrCat("no link '", link, "' (forward, reverse)"));
}

absl::Status Project::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status first;
  std::vector<Link*> links;
  {
    std::lock_guard<std::mutex> lock(rep_->mu);
    for (auto& l : rep_->links) links.push_back(l.get());
  }
  for (Link* link : links) {
    absl::Status s = link->Wait(std::max(absl::ZeroDuration(), deadline - absl::Now()));
    if (absl::IsDeadlineExceeded(s)) return s;
    if (first.ok()) first = s;
  }
  return first;
}

absl::Status Project::Switchover(bool make_source_read_only, absl::Duration timeout) {
  std::lock_guard<std::mutex> lock(rep_->mu);
  const config::Project& cfg = rep_->config;
  if (cfg.scenario() != config::DATA_MIGRATION) {
    return absl::FailedPreconditionError(
        "switchover swaps a one-way project's roles; an ACTIVE_ACTIVE project already writes both ways");
  }
  DUO_RETURN_IF_ERROR(rep_->RefuseWhenCoordinated("switchover"));
  // The link that runs now hands over to the other one.
  Link* current = nullptr;
  for (auto& l : rep_->links) {
    const std::string stage = l->Status().stage();
    if (stage != "stopped" && stage != "paused" && stage != "failed") current = l.get();
  }
  if (rep_->state != "running" || current == nullptr) {
    return absl::FailedPreconditionError("switchover needs the project running");
  }
  const bool to_reverse = current->Status().name() == "forward";
  const LinkConfig from = to_reverse ? rep_->resolved.forward : ReverseOf(cfg);
  const LinkConfig to = to_reverse ? ReverseOf(cfg) : rep_->resolved.forward;
  auto source = SqlConnection::Connect(from.source);
  if (!source.ok()) return source.status();
  if (make_source_read_only) {
    absl::Status s = source.value()->Execute("SET GLOBAL read_only=ON");
    if (absl::IsPermissionDenied(s)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "making ", from.source.Describe(), " read-only needs SUPER (READ_ONLY ADMIN on MariaDB 10.11 "
          "and later): grant it to that user, or stop the writers yourself and switch over without "
          "--read-only (", s.message(), ")"));
    }
    if (!s.ok()) return s;
  }
  auto end_text = ReadBinlogPosition(source->get());
  if (!end_text.ok()) return end_text.status();
  auto end = GtidPosition::Parse(*end_text);
  if (!end.ok()) return end.status();
  // Everything the old source wrote must be applied before the roles swap.
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const report::LinkStatus s = current->Status();
    if (s.stage() == "failed") {
      return absl::FailedPreconditionError(absl::StrCat("the ", s.name(), " link failed: ", s.last_error()));
    }
    auto have = GtidPosition::Parse(s.position());
    if (have.ok() && have->CoversAll(*end)) break;
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("the ", s.name(), " link has not applied up to ",
                                                      end->ToString(), " yet (at ", s.position(), ")"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  current->Stop();
  auto destination = SqlConnection::Connect(from.destination);
  if (!destination.ok()) return destination.status();
  auto start = ReadBinlogPosition(destination->get());
  if (!start.ok()) return start.status();
  // Durable before the new direction runs: a restart, a crash or another process from here on
  // runs `to` from `start`, never `from` again.
  DUO_RETURN_IF_ERROR(RecordSwitch(from, to, *start));
  Link* next = nullptr;
  for (auto& l : rep_->links) {
    if (l->Status().name() == LinkName(to.direction)) next = l.get();
  }
  if (next == nullptr) {
    auto link = Link::Create(to);
    if (!link.ok()) return link.status();
    (*link)->SetEventHandler([events = rep_->events.get()](int e, const std::string& json) {
      events->Post(e, json);
    });
    rep_->links.push_back(std::move(*link));
    next = rep_->links.back().get();
  }
  return next->StartAt(*start);
}

absl::StatusOr<std::string> Project::Replay(absl::string_view link, absl::string_view from) {
  std::lock_guard<std::mutex> lock(rep_->mu);
  DUO_RETURN_IF_ERROR(rep_->RefuseWhenCoordinated("replay"));
  const LinkConfig* config = nullptr;
  if (link == "forward") {
    config = &rep_->resolved.forward;
  } else if (link == "reverse" && rep_->resolved.reverse.has_value()) {
    config = &*rep_->resolved.reverse;
  } else {
    return absl::NotFoundError(absl::StrCat("no link '", link, "' in this project (forward",
                                            rep_->config.has_reverse() ? ", reverse)" : ")"));
  }
  // Replayed changes of an active-active link meet the other region's later writes as conflicts:
  // only a policy that tells later from earlier may decide them.
  if (config->active_active && config->incoming_has_priority) {
    const config::ConflictSettings& c = config->conflicts;
    bool priority = c.policy() == config::REGION_PRIORITY || c.policy() == config::CONFLICT_POLICY_UNSPECIFIED;
    for (const auto& t : c.tables()) priority = priority || t.policy() == config::REGION_PRIORITY;
    if (priority) {
      return absl::FailedPreconditionError(absl::StrCat(
          "a replay of the ", link, " link under REGION_PRIORITY would put its region's older changes over "
          "the other region's newer writes (the priority region wins every conflict, however late): "
          "use LAST_WRITER_WINS for a replay, or repair with verify --repair"));
    }
  }
  for (auto& l : rep_->links) {
    if (l->Status().name() != link) continue;
    const std::string stage = l->Status().stage();
    const bool was_running = rep_->state == "running" && stage != "failed" && stage != "paused";
    l->Stop();
    auto rewound = l->Replay(std::string(from));
    if (was_running) {
      absl::Status restarted = l->Start();
      if (rewound.ok() && !restarted.ok()) return restarted;
    }
    return rewound;
  }
  // Not started in this process: a link object just for the rewind.
  auto l = Link::Create(*config);
  if (!l.ok()) return l.status();
  return (*l)->Replay(std::string(from));
}

absl::StatusOr<std::string> Project::Verify(bool repair, bool* equal) {
  const ProjectConfig& cfg = rep_->resolved;
  // Verification only reads; a repair must hold the live link, which the coordinator may move.
  if (repair) DUO_RETURN_IF_ERROR(rep_->RefuseWhenCoordinated("verify --repair"));
  if (!cfg.reverse.has_value()) {
    // After a switchover B is the source: comparing A -> B would call B's newest rows extra.
    auto direction = ActiveDirection(cfg);
    if (!direction.ok()) return direction.status();
    if (*direction == LinkDirection::kReverse) {
      return absl::FailedPreconditionError(
          "the project runs B -> A since a switchover, and verification compares A -> B: switch over "
          "again first");
    }
  }
  auto source = SqlConnection::Connect(cfg.a);
  if (!source.ok()) return source.status();
  auto tables = ListTables(source->get());
  if (!tables.ok()) return tables.status();
  VerifyOptions o;
  o.source = cfg.a;
  o.destination = cfg.b;
  o.repair = repair;
  o.origin = cfg.forward.guard.own_origin;
  o.threads = cfg.verify.threads;
  o.chunk_rows = cfg.verify.chunk_rows;
  o.tables = ObjectSelector(cfg.forward.objects, cfg.case_insensitive).SelectAll(*tables);
  o.progress = [events = rep_->events.get()](int done, int total, uint64_t rows) {
    events->Post(kEventVerify, absl::StrCat("{\"tables_done\":", done, ",\"tables_total\":", total,
                                           ",\"rows_checked\":", rows, "}"));
  };
  // A repair must not race the live forward link: the link stops before the differing rows are
  // read from the source, the repair commits with the source position it was read at, and the
  // link resumes applying everything up to there idempotently, so no row moves backwards. A link
  // of this process is paused; one another process may run is borrowed (fence.h): fenced while
  // the repair is made, it takes the link back after.
  Link* held = nullptr;
  std::unique_ptr<SqlConnection> lend_lock;         // the loan lasts as long as this session
  std::unique_ptr<CheckpointTables> loaned_tables;  // fenced by the loan's epoch
  o.hold_link = [this, &cfg, &held, &lend_lock, &loaned_tables]() -> absl::Status {
    {
      std::lock_guard<std::mutex> lock(rep_->mu);
      for (auto& l : rep_->links) {
        if (l->Status().name() == "forward" && l->Status().stage() == "incremental") held = l.get();
      }
      if (held != nullptr) {
        held->Pause();
        return absl::OkStatus();
      }
    }
    auto borrowed = BorrowLink(cfg.forward, &lend_lock);
    if (!borrowed.ok()) return borrowed.status();
    loaned_tables = std::move(*borrowed);
    return absl::OkStatus();
  };
  o.apply_repair = [&cfg, &source, &held, &loaned_tables, origin = o.origin](std::vector<std::string> statements) -> absl::Status {
    auto through = ReadBinlogPosition(source->get());
    if (!through.ok()) return through.status();
    if (cfg.forward.active_active && origin == 0) {
      // MARKER_TABLE: the repair carries the forward link's marker, so it does not come back.
      std::string marker = absl::StrCat("REPLACE INTO ", kMetaSchema, ".full_progress VALUES (");
      AppendQuoted(cfg.forward.id, &marker);
      marker += ",'(verify --repair)','',0,1)";
      statements.push_back(marker);
    }
    if (loaned_tables != nullptr) return loaned_tables->ApplyRepair(statements, *through);
    if (held == nullptr) {
      // The link has never run: one transaction, as the rows were read.
      auto destination = ConnectDestination(cfg.forward.destination, origin);
      if (!destination.ok()) return destination.status();
      SqlConnection* d = destination->get();
      absl::Status s = d->Execute("START TRANSACTION");
      if (s.ok()) s = ExecuteInPieces(d, statements, "repair");
      if (s.ok()) return d->Execute("COMMIT");
      (void)d->Execute("ROLLBACK");
      return s;
    }
    auto tables = CheckpointTables::Connect(cfg.forward.destination, cfg.forward.id, origin);
    if (!tables.ok()) return tables.status();
    auto epoch = (*tables)->TakeOwnership(NewOwnerName());
    if (!epoch.ok()) return epoch.status();
    return (*tables)->ApplyRepair(statements, *through);
  };
  auto report = RunVerification(o);
  if (held != nullptr) {
    // Resumed only if nothing stopped the project (or the link) meanwhile.
    std::lock_guard<std::mutex> lock(rep_->mu);
    for (auto& l : rep_->links) {
      if (l.get() != held || rep_->state != "running" || l->Status().stage() != "paused") continue;
      absl::Status resumed = l->Start();
      if (report.ok() && !resumed.ok()) return resumed;
    }
  }
  if (!report.ok()) return report.status();
  if (equal != nullptr) *equal = report->equal;
  report::VerificationSummary summary;
  summary.set_finished_at(static_cast<uint32_t>(absl::ToUnixSeconds(absl::Now())));
  summary.set_equal(report->equal);
  summary.set_rows_checked(report->rows_checked);
  summary.set_seconds(report->seconds);
  summary.set_repaired(report->repaired);
  for (const TableDiff& t : report->tables) {
    summary.set_missing(summary.missing() + t.missing.size());
    summary.set_extra(summary.extra() + t.extra.size());
    summary.set_different(summary.different() + t.different.size());
  }
  {
    std::lock_guard<std::mutex> lock(rep_->mu);
    rep_->last_verification = summary;
  }
  return VerifyReportJson(*report);
}

std::string Project::ConflictsJson() const {
  std::vector<const LinkConfig*> links = {&rep_->resolved.forward};
  if (rep_->resolved.reverse.has_value()) links.push_back(&*rep_->resolved.reverse);
  std::string out = "{";
  for (const LinkConfig* link : links) {
    const std::string name = LinkName(link->direction);
    absl::StrAppend(&out, out.size() > 1 ? "," : "", "\"", name, "\":");
    // The destination keeps every conflict with its resolution; they outlast this process.
    auto conn = SqlConnection::Connect(link->destination);
    const absl::StatusOr<std::string> stored =
        conn.ok() ? ReadConflicts(conn->get(), link->id, 1000) : absl::StatusOr<std::string>(conn.status());
    if (stored.ok()) {
      out += *stored;
      continue;
    }
    // Unreachable: what this process saw, saying why the stored log is missing.
    std::string seen = "{\"total\":0,\"conflicts\":[]}";
    {
      std::lock_guard<std::mutex> lock(rep_->mu);
      for (const auto& l : rep_->links) {
        if (l->Status().name() == name) seen = l->ConflictsJson();
      }
    }
    seen.pop_back();
    out += seen + ",\"error\":";
    AppendJsonString(absl::StrCat("the destination's conflict log could not be read: ", stored.status().message()),
                     &out);
    out += "}";
  }
  // A link the config does not name (the reverse link a switchover started) has no stored log.
  std::lock_guard<std::mutex> lock(rep_->mu);
  for (const auto& l : rep_->links) {
    const std::string name = l->Status().name();
    if (name == "reverse" && !rep_->resolved.reverse.has_value()) {
      absl::StrAppend(&out, ",\"", name, "\":", l->ConflictsJson());
    }
  }
  return out + "}";
}

std::string Project::StatusJson() const {
  report::ProjectStatus status;
  std::lock_guard<std::mutex> lock(rep_->mu);
  status.set_name(rep_->config.name());
  status.set_scenario(config::Scenario_Name(rep_->config.scenario()));
  status.set_endpoint_a(DescribeEndpoint(rep_->config.endpoints().a()));
  status.set_endpoint_b(DescribeEndpoint(rep_->config.endpoints().b()));
  bool failed = false;
  for (const auto& link : rep_->links) {
    report::LinkStatus* s = status.add_links();
    *s = link->Status();
    if (rep_->coordinator != nullptr) {
      LinkCoordinator::LinkView view = rep_->coordinator->View(s->name());
      s->set_owner_member(view.owner);
      for (const report::Takeover& t : view.takeovers) *s->add_takeovers() = t;
      if (!view.here) s->set_stage("standby");
    }
    // Coordinated mode: a link another process took over (its fence refused this one) is standby
    // here, not a failure (also in the last status after Stop).
    if (!rep_->resolved.coordination.etcd_endpoints.empty() && s->stage() == "failed" &&
        IsFenced(absl::FailedPreconditionError(s->last_error()))) {
      s->set_stage("standby");
    }
    failed = failed || s->stage() == "failed";
  }
  if (rep_->coordinator != nullptr) *status.mutable_coordination() = rep_->coordinator->Status();
  status.set_state(failed ? "failed" : rep_->state);
  if (rep_->last_verification.has_value()) *status.mutable_last_verification() = *rep_->last_verification;
  return ToJson(status);
}

}  // namespace duosync
