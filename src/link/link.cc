#include "link/link.h"

#include <atomic>
#include <fstream>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/strings/str_cat.h"
#include "source/binlog_reader.h"
#include "glog/logging.h"
#include "route/ddl.h"
#include "full/full_migration.h"
#include "base/gtid_position.h"
#include "base/json_text.h"
#include "config/validation.h"
#include "apply/conflict.h"
#include "route/loop_prevention.h"
#include "base/names.h"
#include "base/system_schemas.h"
#include "config/object_selector.h"
#include "project/precheck.h"
#include "sql/catalog.h"
#include "route/router.h"
#include "apply/parallel_applier.h"
#include "store/record_store.h"
#include "store/store_pump.h"
#include "apply/checkpoint_tables.h"
#include "base/status_macros.h"

namespace duosync {
namespace {

// A replay's "from" as a time: "YYYY-MM-DD HH:MM:SS" (UTC), RFC 3339, or "@<Unix seconds>".
bool ParseReplayTime(const std::string& text, absl::Time* time) {
  std::string err;
  if (absl::StartsWith(text, "@")) {
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(text.substr(1), &seconds)) return false;
    *time = absl::FromUnixSeconds(seconds);
    return true;
  }
  return absl::ParseTime("%Y-%m-%d %H:%M:%S", text, absl::UTCTimeZone(), time, &err) ||
         absl::ParseTime(absl::RFC3339_full, text, time, &err);
}

// A replica server id of our own for the link's binlog dump: stable across restarts (a restarted
// link replaces its old dump connection) and away from the small ids real servers use.
uint32_t ReplicaServerId(const std::string& link_id) {
  return 1000000000u + static_cast<uint32_t>(StableHash(link_id) % 2000000000u);
}

class LinkImpl : public Link {
 public:
  LinkImpl(const config::Project& project, LinkDirection direction)
      : project_(project), direction_(direction) {
    const bool forward = direction == LinkDirection::kForward;
    link_ = forward ? project.forward() : project.reverse();
    source_ = ConnectOptionsFor(forward ? project.endpoints().a() : project.endpoints().b());
    destination_ = ConnectOptionsFor(forward ? project.endpoints().b() : project.endpoints().a());
    objects_ = EffectiveObjects(project, !forward);
    link_id_ = LinkId(project, direction);
    guard_ = LoopGuardFor(project, direction);
    if (project.scenario() == config::ACTIVE_ACTIVE) {
      resolver_ = std::make_unique<ConflictResolver>(project.active_active().conflicts(),
                                                     LinkName(direction), forward, &conflicts_);
    }
    status_.set_name(LinkName(direction));
    status_.set_source(forward ? "a" : "b");
    status_.set_destination(forward ? "b" : "a");
    status_.set_stage("created");
  }

  ~LinkImpl() override { Stop(); }

  void SetEventHandler(LinkEventHandler handler) override {
    events_ = std::move(handler);
    conflicts_.SetListener([this](const std::string& json) {
      if (events_) events_(kEventConflict, json);
    });
  }

  absl::Status StartAt(const std::string& position) override {
    if (thread_.joinable()) return absl::FailedPreconditionError("the link is already running");
    auto sink = CheckpointTables::Connect(destination_, link_id_, guard_.own_origin);
    if (!sink.ok()) return sink.status();
    DUO_RETURN_IF_ERROR((*sink)->EnsureTables());
    DUO_RETURN_IF_ERROR((*sink)->ResetCheckpoint(position));
    if (KeepsRecords()) {
      DUO_RETURN_IF_ERROR(OpenStore());
      auto start = GtidPosition::Parse(position);
      if (!start.ok()) return start.status();
      DUO_RETURN_IF_ERROR(store_->Reset(*start));
    }
    return Start();
  }

  absl::Status Start() override {
    if (thread_.joinable()) return absl::FailedPreconditionError("the link is already running");
    auto sink = CheckpointTables::Connect(destination_, link_id_, guard_.own_origin);
    if (!sink.ok()) return sink.status();
    absl::Status s = (*sink)->EnsureTables();
    if (!s.ok()) return s;
    auto recorded = (*sink)->ReadCheckpoint();
    if (!recorded.ok()) return recorded.status();
    std::string position;
    if (recorded->has_value()) {
      position = **recorded;
      LOG(INFO) << link_id_ << ": resuming from " << position;
    } else {
      position = link_.start_gtid();
      if (position.empty()) {
        auto conn = SqlConnection::Connect(source_);
        if (!conn.ok()) return conn.status();
        auto end = ReadBinlogPosition(conn->get());
        if (!end.ok()) return end.status();
        position = *end;
      }
      // A link that migrates schema or data first records that stage before its start position:
      // a crash between the two then redoes the (not yet begun) migration.
      if (HasMigrationType(link_, config::SCHEMA) || HasMigrationType(link_, config::FULL)) {
        DUO_RETURN_IF_ERROR((*sink)->WriteStage(
            HasMigrationType(link_, config::FULL) ? "full" : "schema", ""));
      }
      // Durable before Start returns: a crash from now on resumes here, losing nothing.
      auto init = (*sink)->InitCheckpoint(position);
      if (!init.ok()) return init.status();
      position = *init;
      LOG(INFO) << link_id_ << ": starting at " << (position.empty() ? "the binlog's start" : position);
    }
    auto stage = (*sink)->ReadStage();
    if (!stage.ok()) return stage.status();
    if (KeepsRecords()) {
      absl::Status pumping = StartPump(position);
      if (!pumping.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        store_.reset();  // releases its directory lock
        return pumping;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      SetStage(stage->first);  // "schema" / "full" until the migration is done
      status_.set_position(position);
      durable_position_ = position;
      status_.clear_last_error();
      finished_ = false;
      result_ = absl::OkStatus();
    }
    stop_ = false;
    rate_mark_ = std::chrono::steady_clock::now();
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  void Stop() override {
    stop_ = true;
    {
      std::lock_guard<std::mutex> lock(reader_mu_);
      if (feed_ != nullptr) feed_->Cancel();
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    StopPump();
    std::lock_guard<std::mutex> lock(mu_);
    store_.reset();  // releases the store's directory lock
    if (status_.stage() != "failed" && status_.stage() != "created") SetStage("stopped");
  }

  absl::StatusOr<std::string> Replay(const std::string& from) override {
    if (thread_.joinable()) return absl::FailedPreconditionError("stop the link before a replay");
    if (!KeepsRecords()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the ", LinkName(direction_), " link keeps no record store to replay from: set its "
          "options.retention_hours and the project's data_dir"));
    }
    DUO_RETURN_IF_ERROR(OpenStore());
    // The store is closed again when this returns; Start reopens it.
    struct Close {
      LinkImpl* link;
      ~Close() {
        std::lock_guard<std::mutex> lock(link->mu_);
        link->store_.reset();
      }
    } close{this};
    if (!store_->initialized()) return absl::FailedPreconditionError("the record store is empty");
    GtidPosition target;
    absl::Time time;
    if (ParseReplayTime(from, &time)) {
      auto at = store_->PositionAtTime(static_cast<uint32_t>(absl::ToUnixSeconds(time)));
      if (!at.ok()) return at.status();
      target = *at;
      if (!store_->Holds(target)) {
        return absl::InternalError(absl::StrCat("the record store's position for ", from, " (",
                                                target.ToString(), ") is outside what it holds"));
      }
    } else {
      auto parsed = GtidPosition::Parse(from);
      if (!parsed.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "replay from '", from, "': neither a time (\"2026-11-24 10:00:00\" UTC, RFC 3339 or "
            "\"@<Unix seconds>\") nor a GTID position (\"0-1-100\")"));
      }
      if (!store_->Holds(*parsed)) {
        return absl::OutOfRangeError(absl::StrCat(
            "the record store holds the transactions after ", store_->start().ToString(), " up to ",
            store_->end().ToString(), ", not from ", from));
      }
      target = *parsed;
    }
    auto sink = CheckpointTables::Connect(destination_, link_id_);
    if (!sink.ok()) return sink.status();
    DUO_RETURN_IF_ERROR((*sink)->EnsureTables());
    auto recorded = (*sink)->ReadCheckpoint();
    if (!recorded.ok()) return recorded.status();
    auto stage = (*sink)->ReadStage();
    if (!stage.ok()) return stage.status();
    if (!recorded->has_value() || stage->first != "incremental") {
      return absl::FailedPreconditionError("replay rewinds incremental migration; this link has not reached it");
    }
    auto checkpoint = GtidPosition::Parse(**recorded);
    auto copy_end = GtidPosition::Parse(stage->second);
    if (!checkpoint.ok() || !copy_end.ok()) return absl::DataLossError("corrupt checkpoint or stage row");
    if (!checkpoint->CoversAll(target)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "replay goes back, not forward: the link has applied up to ", checkpoint->ToString(),
          ", before ", target.ToString()));
    }
    // Up to where the link (and its store) had got, the destination may hold a change already.
    GtidPosition idempotent_until = *copy_end;
    // So may every GTID recorded as applied above the checkpoint (the rewind forgets them).
    auto applied = (*sink)->ReadApplied();
    if (!applied.ok()) return applied.status();
    GtidPosition store_end = store_->end();
    for (const GtidPosition* p : {&*checkpoint, &store_end}) {
      for (const auto& [domain, gtid] : p->domains()) {
        if (!idempotent_until.Covers(gtid)) idempotent_until.Advance(gtid);
      }
    }
    for (const Gtid& gtid : *applied) {
      if (!idempotent_until.Covers(gtid)) idempotent_until.Advance(gtid);
    }
    DUO_RETURN_IF_ERROR((*sink)->WriteStage("incremental", idempotent_until.ToString()));
    DUO_RETURN_IF_ERROR((*sink)->ResetCheckpoint(target.ToString()));
    LOG(INFO) << link_id_ << ": rewound from " << checkpoint->ToString() << " to " << target.ToString()
              << " for a replay (idempotent up to " << idempotent_until.ToString() << ")";
    std::lock_guard<std::mutex> lock(mu_);
    status_.set_position(target.ToString());
    durable_position_ = target.ToString();
    return target.ToString();
  }

  void Pause() override {
    Stop();
    std::lock_guard<std::mutex> lock(mu_);
    if (status_.stage() == "stopped") SetStage("paused");
  }

  absl::Status Wait(absl::Duration timeout) override {
    std::unique_lock<std::mutex> lock(mu_);
    const bool done = done_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                        [this] { return finished_; });
    if (!done) return absl::DeadlineExceededError(absl::StrCat(LinkName(direction_), " link still runs"));
    return result_;
  }

  report::LinkStatus Status() const override {
    std::lock_guard<std::mutex> lock(mu_);
    report::LinkStatus s = status_;
    uint64_t transactions = base_transactions_, rows = base_rows_;
    double lag = 0;
    if (applier_ != nullptr) {
      const ApplierProgress p = applier_->progress();
      transactions += p.transactions;
      rows += p.rows;
      s.set_position(p.position);
      // Caught up when the reader waits at the source's end and everything read is applied.
      const bool idle = !reader_idle_position_.empty() && reader_idle_position_ == p.position;
      if (!idle && p.commit_time != 0) {
        lag = std::max<double>(0, static_cast<double>(time(nullptr)) - p.commit_time);
      }
    }
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - rate_mark_).count();
    if (elapsed >= 1.0) {
      rate_ = (rows - rate_rows_) / elapsed;
      rate_rows_ = rows;
      rate_mark_ = now;
    }
    s.set_rows_per_second(rate_);
    s.set_rows_applied(rows);
    s.set_transactions_applied(transactions);
    s.set_lag_seconds(lag);
    for (const auto& t : filtered_) s.add_filtered_tables(t);
    s.set_echoes_dropped(echoes_);
    s.set_conflicts(conflicts_.total());
    if (store_ != nullptr) {
      const StoreStats st = store_->stats();
      report::StoreStatus* out = s.mutable_store();
      out->set_dir(store_->dir());
      out->set_bytes(st.bytes);
      out->set_segments(st.segments);
      out->set_transactions(st.transactions);
      out->set_oldest_commit_time(st.oldest_commit_time);
      out->set_newest_commit_time(st.newest_commit_time);
      out->set_start_position(st.start_position);
      out->set_end_position(st.end_position);
    }
    return s;
  }

  std::string ConflictsJson() const override { return conflicts_.ToJson(); }

 private:
  // REQUIRES: mu_ held.
  void SetStage(const std::string& stage) {
    if (status_.stage() == stage) return;
    status_.set_stage(stage);
    if (events_) {
      events_(kEventStage, absl::StrCat("{\"link\":\"", LinkName(direction_), "\",\"stage\":\"", stage, "\"}"));
    }
  }

  void Run() {
    auto backoff = std::chrono::milliseconds(200);
    while (!stop_) {
      absl::Status s = RunSession();
      if (stop_) break;
      if (corrupt_at_.has_value()) s = TruncateStore(s);
      if (IsRetryable(s)) {
        LOG(WARNING) << link_id_ << ": " << s << "; reconnecting in " << backoff.count() << " ms";
        {
          std::lock_guard<std::mutex> lock(mu_);
          status_.set_last_error(absl::StrCat(s.message(), " (reconnecting)"));
        }
        std::unique_lock<std::mutex> lock(wait_mu_);
        wake_.wait_for(lock, backoff, [this] { return stop_.load(); });
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        if (session_made_progress_) backoff = std::chrono::milliseconds(200);
        continue;
      }
      LOG(ERROR) << link_id_ << " failed: " << s;
      std::lock_guard<std::mutex> lock(mu_);
      status_.set_last_error(std::string(s.message()));
      SetStage("failed");
      if (events_) {
        std::string json = absl::StrCat("{\"link\":\"", LinkName(direction_), "\",\"code\":",
                                        static_cast<int>(s.code()), ",\"error\":");
        AppendJsonString(s.message(), &json);
        events_(kEventError, json + "}");
      }
      result_ = s;
      break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    done_cv_.notify_all();
  }

  // One connected session: resumes from the destination's checkpoint, so whatever happened to
  // the previous session (even a commit whose reply was lost), nothing is applied twice.
  absl::Status RunSession() {
    session_made_progress_ = false;
    auto sink = CheckpointTables::Connect(destination_, link_id_);
    if (!sink.ok()) return sink.status();
    auto recorded = (*sink)->ReadCheckpoint();
    if (!recorded.ok()) return recorded.status();
    if (!recorded->has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the checkpoint of link ", link_id_, " vanished from the destination's ", kMetaSchema,
          ".checkpoint table; restart the project to record a new start"));
    }
    auto position = GtidPosition::Parse(**recorded);
    if (!position.ok()) {
      return absl::DataLossError(absl::StrCat("corrupt checkpoint: ", position.status().message()));
    }
    auto stage = (*sink)->ReadStage();
    if (!stage.ok()) return stage.status();
    if (stage->first != "incremental") {
      DUO_RETURN_IF_ERROR(Migrate(sink->get()));
      stage = (*sink)->ReadStage();
      if (!stage.ok()) return stage.status();
    }
    auto copy_end = GtidPosition::Parse(stage->second);
    if (!copy_end.ok()) return copy_end.status();
    copy_end_ = *copy_end;
    sink->reset();
    auto applier = ParallelApplier::Start(ApplierOptionsFor(), *position);
    if (!applier.ok()) return applier.status();
    Router router(link_, objects_, project_.tenant_mode() != config::ORACLE);
    std::unique_ptr<TransactionFeed> feed;
    StoreFeed* store_feed = nullptr;
    if (pump_ != nullptr) {
      // The reader runs on its own (the pump); the applier reads the store from the checkpoint.
      auto cursor = store_->NewCursor(*position);
      if (!cursor.ok()) return cursor.status();
      feed = std::make_unique<StoreFeed>(std::move(*cursor), pump_.get());
      store_feed = static_cast<StoreFeed*>(feed.get());
    } else {
      ReaderOptions options = ReaderOptionsFor(&router);
      options.start = *position;
      auto reader = BinlogReader::Open(options);
      if (!reader.ok()) return reader.status();
      feed = std::move(*reader);
    }
    {
      std::lock_guard<std::mutex> lock(reader_mu_);
      feed_ = feed.get();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      applier_ = applier->get();
    }
    absl::Status s = Follow(feed.get(), applier->get(), &router);
    if (store_feed != nullptr && store_feed->corrupt_at().has_value()) corrupt_at_ = store_feed->corrupt_at();
    (*applier)->Stop();  // before the router goes: tasks point into its routes
    {
      std::lock_guard<std::mutex> lock(mu_);
      const ApplierProgress p = (*applier)->progress();
      base_transactions_ += p.transactions;
      base_rows_ += p.rows;
      status_.set_position(p.position);
      durable_position_ = p.durable_position;
      applier_ = nullptr;
    }
    {
      std::lock_guard<std::mutex> lock(reader_mu_);
      feed_ = nullptr;
    }
    // The applier's error is the cause when it cancelled the reader.
    absl::Status applier_error = (*applier)->error();
    return applier_error.ok() ? s : applier_error;
  }

  // Schema migration and full copy (resumable), then the stage moves to incremental with the
  // source position at the end of the copy.
  absl::Status Migrate(CheckpointTables* sink) {
    const bool copy = HasMigrationType(link_, config::FULL);
    {
      std::lock_guard<std::mutex> lock(mu_);
      SetStage(copy ? "full" : "schema");
    }
    auto source = SqlConnection::Connect(source_);
    if (!source.ok()) return source.status();
    auto tables = ListTables(source->get());
    if (!tables.ok()) return tables.status();
    FullMigrationOptions o;
    o.source = source_;
    o.destination = destination_;
    o.link_id = link_id_;
    o.schema = HasMigrationType(link_, config::SCHEMA);
    o.copy = copy;
    o.post_indexing = link_.options().post_indexing();
    o.allow_nonempty_destination = link_.options().allow_nonempty_destination();
    o.origin = guard_.own_origin;
    o.stop = &stop_;
    ApplyConcurrency(link_.options().full_concurrency(), &o);
    ObjectSelector selector(objects_, project_.tenant_mode() != config::ORACLE);
    for (const TableRef& t : *tables) {
      if (auto selected = selector.Select(t)) o.tables.push_back(*selected);
    }
    auto views = ListViews(source->get());
    if (!views.ok()) return views.status();
    for (const TableRef& v : *views) {
      if (auto selected = selector.Select(v)) o.views.push_back(*selected);
    }
    absl::Status s = RunFullMigration(o, [this](const FullMigrationProgress& p) {
      std::lock_guard<std::mutex> lock(mu_);
      status_.set_full_rows_copied(p.rows_copied);
      status_.set_full_rows_estimated(p.rows_estimated);
      status_.set_full_tables_done(p.tables_done);
      status_.set_full_tables_total(p.tables_total);
    });
    if (!s.ok()) return s;
    std::string copy_end;
    if (copy) {
      auto end = ReadBinlogPosition(source->get());
      if (!end.ok()) return end.status();
      copy_end = *end;
    }
    DUO_RETURN_IF_ERROR(sink->WriteStage("incremental", copy_end));
    std::lock_guard<std::mutex> lock(mu_);
    SetStage("incremental");
    return absl::OkStatus();
  }

  ApplierOptions ApplierOptionsFor() {
    const auto& o = link_.options();
    ApplierOptions a;
    a.destination = destination_;
    a.link_id = link_id_;
    a.origin = guard_.own_origin;
    a.resolver = resolver_.get();
    a.workers = o.apply_workers() > 0 ? o.apply_workers() : 16;
    a.batch_transactions = o.apply_batch_transactions() > 0 ? o.apply_batch_transactions() : 100;
    a.batch_rows = o.apply_batch_rows() > 0 ? o.apply_batch_rows() : 5000;
    // A failed apply ends the session at once, not at the reader's next event.
    a.on_failure = [this] {
      std::lock_guard<std::mutex> lock(reader_mu_);
      if (feed_ != nullptr) feed_->Cancel();
    };
    return a;
  }

  // Decides a DDL of the source: ignored (DDL sync off, or no synced table named), refused (an
  // unsupported statement on a synced table: the link stops before it), or rewritten for the
  // destination and applied as a barrier.
  absl::Status PrepareDdl(Router* router, ApplyTask* task) {
    const Transaction& txn = task->txn;
    if (!link_.ddl()) return absl::OkStatus();
    ParsedDdl ddl = ParseDdl(txn.ddl, txn.ddl_schema);
    if (!ddl.is_table_ddl) return absl::OkStatus();
    std::vector<bool> synced;
    bool any = false;
    for (const TableRef& t : ddl.tables) {
      synced.push_back(router->Wants(t));
      any = any || synced.back();
    }
    if (!any) return absl::OkStatus();
    const std::string where = absl::StrCat("DDL ", txn.gtid.ToString(), " (", txn.ddl.substr(0, 200), ")");
    if (ddl.is_rename) {
      for (size_t i = 0; i + 1 < synced.size(); i += 2) {
        if (synced[i] != synced[i + 1]) {
          return absl::FailedPreconditionError(absl::StrCat(
              where, " renames between a synced and an unsynced name (", ddl.tables[i].ToString(), " -> ",
              ddl.tables[i + 1].ToString(), "); both names must be synced or neither. The link stops "
              "before it: apply it on the destination as fits, then restart the link after it"));
        }
      }
    }
    if (!ddl.supported) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, " is not supported on synced tables: ", ddl.reason, ". The link stops before it with "
          "its checkpoint just before; apply the change on the destination yourself, then restart the "
          "link with start_gtid after ", txn.gtid.ToString()));
    }
    const bool ci = project_.tenant_mode() != config::ORACLE;
    ObjectSelector selector(objects_, ci);
    auto rename = [&selector](const TableRef& t) {
      auto s = selector.Select(t);
      return s ? s->destination : t;
    };
    for (const auto& m : ddl.modifies) {
      auto dest = SqlConnection::Connect(destination_);
      if (!dest.ok()) return dest.status();
      const TableRef d = rename(m.table);
      auto type = ReadColumnType(dest->get(), d, m.column);
      if (!type.ok()) return type.status();
      const std::string why = CheckLengthOnlyChange(*type, m.type);
      if (!why.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            where, " is not supported: MODIFY of ", m.column, ": ", why, ". The link stops before it; "
            "apply the change on the destination yourself, then restart the link after ", txn.gtid.ToString()));
      }
    }
    task->ddl_sql = ddl.rewrite(rename);
    task->ddl_is_rename = ddl.is_rename;
    task->barrier = true;
    LOG(INFO) << link_id_ << ": applying " << task->ddl_sql;
    return absl::OkStatus();
  }

  bool KeepsRecords() const { return link_.options().retention_hours() > 0; }

  ReaderOptions ReaderOptionsFor(const Router* router) const {
    ReaderOptions options;
    options.source = source_;
    options.replica_server_id = ReplicaServerId(link_id_);
    const bool markers = !guard_.drop_marker_link_id.empty();
    options.wants = [router, markers](const TableRef& t) {
      return router->Wants(t) || (markers && absl::EqualsIgnoreCase(t.schema, kMetaSchema) &&
                                  absl::EqualsIgnoreCase(t.table, "applied"));
    };
    options.skip_rows_of_origin = guard_.drop_origin;
    return options;
  }

  absl::Status OpenStore() {
    if (store_ != nullptr) return absl::OkStatus();
    StoreOptions o;
    o.dir = absl::StrCat(project_.data_dir(), "/", link_id_);
    o.retention = absl::Hours(link_.options().retention_hours());
    if (link_.options().store_segment_mb() > 0) o.segment_bytes = uint64_t{link_.options().store_segment_mb()} << 20;
    auto store = RecordStore::Open(o);
    if (!store.ok()) return store.status();
    std::lock_guard<std::mutex> lock(mu_);  // Status() reads it
    store_ = std::move(*store);
    return absl::OkStatus();
  }

  // Opens the store so that it holds what comes after the checkpoint `position`, and starts the
  // pump at the store's end (which may be past the checkpoint: the destination was behind).
  absl::Status StartPump(const std::string& position) {
    DUO_RETURN_IF_ERROR(OpenStore());
    auto checkpoint = GtidPosition::Parse(position);
    if (!checkpoint.ok()) return checkpoint.status();
    // The store holds only what the reader decoded for the tables synced then: after a change
    // of the object selection it cannot serve this link any more.
    const std::string selection_path = store_->dir() + "/SELECTION";
    const std::string selection = absl::StrCat(
        objects_.ShortDebugString(), " mode:", project_.tenant_mode(), " origin:", guard_.drop_origin,
        " marker:", guard_.drop_marker_link_id);
    std::string stored_selection;
    {
      std::ifstream in(selection_path);
      std::getline(in, stored_selection, '\0');
    }
    const bool reselected = store_->initialized() && stored_selection != selection;
    if (!store_->Holds(*checkpoint) || reselected) {
      if (store_->initialized()) {
        LOG(WARNING) << link_id_ << ": the record store "
                     << (reselected ? "was filled for another object selection"
                                    : absl::StrCat("starts at ", store_->start().ToString(),
                                                   ", after the checkpoint ", position))
                     << "; it starts afresh at " << position;
      }
      DUO_RETURN_IF_ERROR(store_->Reset(*checkpoint));
    }
    if (stored_selection != selection) {
      std::ofstream out(selection_path, std::ios::trunc);
      out << selection;
      if (!out.flush()) {
        return absl::InternalError(absl::StrCat("record store: cannot write ", selection_path));
      }
    }
    pump_router_ = std::make_unique<Router>(link_, objects_, project_.tenant_mode() != config::ORACLE);
    PumpOptions o;
    o.reader = ReaderOptionsFor(pump_router_.get());
    o.applied = [this] { return AppliedPosition(); };
    pump_ = std::make_unique<StorePump>(store_.get(), std::move(o));
    pump_->Start();
    LOG(INFO) << link_id_ << ": record store " << store_->dir() << " holds " << store_->start().ToString()
              << " .. " << store_->end().ToString() << "; reading the source from there";
    return absl::OkStatus();
  }

  void StopPump() {
    if (pump_ != nullptr) pump_->Stop();
    pump_.reset();
    pump_router_.reset();
  }

  // What the destination has durably applied (the watermark), for the store's retention.
  GtidPosition AppliedPosition() const {
    std::string text;
    {
      std::lock_guard<std::mutex> lock(mu_);
      text = applier_ != nullptr ? applier_->progress().durable_position : durable_position_;
    }
    auto parsed = GtidPosition::Parse(text);
    return parsed.ok() ? *parsed : GtidPosition();
  }

  // A session met a corrupt record in the store: cut the store there and read the rest from the
  // source again. Returns the status the run loop goes on with.
  absl::Status TruncateStore(const absl::Status& cause) {
    const RecordLocation at = *corrupt_at_;
    corrupt_at_.reset();
    LOG(ERROR) << link_id_ << ": " << cause << "; truncating the record store there";
    StopPump();
    absl::Status s = store_->TruncateAt(at);
    if (!s.ok()) return s;
    std::string position;
    {
      std::lock_guard<std::mutex> lock(mu_);
      position = durable_position_;
    }
    s = StartPump(position);
    if (!s.ok()) return s;
    return absl::UnavailableError(absl::StrCat(cause.message(), " (the store was truncated there; "
                                               "reading the rest from the source again)"));
  }

  // Transactions that must apply alone and in order.
  bool IsBarrier(const Transaction& txn, const std::vector<RoutedChange>& changes) const {
    if (!txn.ddl.empty()) return true;
    const bool ci = project_.tenant_mode() != config::ORACLE;
    for (const RoutedChange& c : changes) {
      if (c.route->schema->has_untrusted_unique_key) return true;
      const std::string name = c.route->schema->QualifiedName();
      for (const auto& pattern : link_.options().serial_tables()) {
        if (WildcardMatch(pattern, name, ci)) return true;
      }
    }
    return false;
  }

  absl::Status Follow(TransactionFeed* reader, ParallelApplier* applier, Router* router) {
    while (!stop_) {
      DUO_RETURN_IF_ERROR(applier->error());
      auto next = reader->Next();
      if (!next.ok()) return stop_ ? absl::OkStatus() : next.status();
      if (!next->has_value()) {  // the reader is at the source's end (or the store's)
        std::lock_guard<std::mutex> lock(mu_);
        reader_idle_position_ = pump_ != nullptr ? pump_->idle_position() : reader->position().ToString();
        if (!status_.last_error().empty() && session_made_progress_) status_.clear_last_error();
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        reader_idle_position_.clear();
      }
      ApplyTask task;
      task.txn = std::move(**next);
      task.position = reader->position().ToString();
      if (IsEcho(task.txn, guard_)) {
        std::lock_guard<std::mutex> lock(mu_);
        ++echoes_;  // applied by the opposite link: passing it on would loop it back
      } else if (!applier->AlreadyApplied(task.txn.gtid)) {
        auto routed = router->RouteTransaction(task.txn);
        if (!routed.ok()) return routed.status();
        task.changes = std::move(*routed);
        task.barrier = IsBarrier(task.txn, task.changes);
        if (!task.txn.ddl.empty()) {
          absl::Status refused = PrepareDdl(router, &task);
          if (!refused.ok()) {
            // Stop right before the refused DDL: everything before it is applied and checkpointed.
            absl::Status drained = applier->Drain();
            return drained.ok() ? refused : drained;
          }
        }
        // Up to where the full copy ended, the copy may already hold the change.
        task.idempotent = copy_end_.Covers(task.txn.gtid);
      }
      for (const auto& t : router->FilteredTables()) NoteFiltered(t);
      if (!task.txn.statement.empty() &&
          (!task.changes.empty() || task.txn.ddl_schema.empty() ||
           router->MayHoldSchema(task.txn.ddl_schema))) {
        absl::Status drained = applier->Drain();  // stop right before it
        if (!drained.ok()) return drained;
        return absl::FailedPreconditionError(absl::StrCat(
            "transaction ", task.txn.gtid.ToString(), " was logged as a statement (", task.txn.statement,
            ") in a synced schema; duosync needs binlog_format=ROW on the source: set it, then "
            "restart the link with start_gtid after this transaction"));
      }
      if (!task.changes.empty()) session_made_progress_ = true;
      DUO_RETURN_IF_ERROR(applier->Submit(std::move(task)));
    }
    return absl::OkStatus();
  }

  void NoteFiltered(const std::string& table) {
    std::lock_guard<std::mutex> lock(mu_);
    filtered_.insert(table);
  }

  const config::Project project_;
  const LinkDirection direction_;
  config::Link link_;
  config::ObjectSelection objects_;
  ConnectOptions source_, destination_;
  std::string link_id_;
  LoopGuard guard_;
  LinkEventHandler events_;  // set before Start
  GtidPosition copy_end_;  // where the full copy ended (thread-confined to the link thread)
  ConflictLog conflicts_;
  std::unique_ptr<ConflictResolver> resolver_;  // active-active links only

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex wait_mu_;
  std::condition_variable wake_;
  bool session_made_progress_ = false;  // thread-confined

  std::mutex reader_mu_;
  TransactionFeed* feed_ = nullptr;  // guarded by reader_mu_

  // The record store (links with retention_hours > 0): open while the link runs, filled by the
  // pump, read by the sessions. Set and reset under mu_ (Status reads it) while no session runs.
  std::unique_ptr<RecordStore> store_;
  std::unique_ptr<Router> pump_router_;  // the pump's view of which tables to decode
  std::unique_ptr<StorePump> pump_;
  std::optional<RecordLocation> corrupt_at_;  // a corrupt record a session met (link thread)

  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  report::LinkStatus status_;
  bool finished_ = false;
  absl::Status result_;
  uint64_t base_transactions_ = 0, base_rows_ = 0;  // of ended sessions
  std::string durable_position_;  // the checkpoint on the destination, as far as known
  ParallelApplier* applier_ = nullptr;               // of the running session
  std::string reader_idle_position_;                 // set while the reader waits at the end
  std::set<std::string> filtered_;
  uint64_t echoes_ = 0;
  mutable std::chrono::steady_clock::time_point rate_mark_;
  mutable uint64_t rate_rows_ = 0;
  mutable double rate_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Link>> Link::Create(const config::Project& project,
                                                   LinkDirection direction) {
  const config::Link& link =
      direction == LinkDirection::kForward ? project.forward() : project.reverse();
  bool incremental = false;
  for (int t : link.migration_types()) incremental = incremental || t == config::INCREMENTAL;
  if (!incremental) {
    return absl::UnimplementedError(absl::StrCat(
        "the ", LinkName(direction), " link has no INCREMENTAL stage; links that only migrate "
        "schema or data once are not supported yet: add INCREMENTAL"));
  }
  return std::unique_ptr<Link>(new LinkImpl(project, direction));
}

}  // namespace duosync
