#include "link/link.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "apply/checkpoint_tables.h"
#include "apply/conflict_log_pruner.h"
#include "apply/conflict_resolver.h"
#include "apply/fence.h"
#include "base/status_macros.h"
#include "glog/logging.h"
#include "link/link_session.h"
#include "link/link_state.h"
#include "link/link_store.h"
#include "route/router.h"
#include "source/schema_history.h"
#include "sql/catalog.h"

namespace duosync {
namespace {

class LinkImpl : public Link {
 public:
  explicit LinkImpl(const LinkConfig& config) : link_(config), state_(config.direction) {
    if (link_.keeps_records) store_ = std::make_unique<LinkStore>(link_);
    if (link_.active_active) {
      resolver_ = std::make_unique<ConflictResolver>(link_.conflicts, LinkName(link_.direction), link_.id,
                                                     link_.incoming_has_priority, &conflicts_);
    }
  }

  ~LinkImpl() override { Stop(); }

  void SetEventHandler(LinkEventHandler handler) override {
    state_.SetEventHandler(std::move(handler));
    conflicts_.SetListener([this](const std::string& json) { state_.Emit(kEventConflict, json); });
  }

  absl::Status StartAt(const std::string& position) override {
    if (thread_.joinable()) return absl::FailedPreconditionError("the link is already running");
    DUO_RETURN_IF_ERROR(CheckStartAt(position));
    auto tables = CheckpointTables::Connect(link_.destination, link_.id, link_.guard.own_origin);
    if (!tables.ok()) return tables.status();
    DUO_RETURN_IF_ERROR((*tables)->EnsureTables());
    if (store_ != nullptr) DUO_RETURN_IF_ERROR(store_->Open());  // a second process stops here
    auto epoch = (*tables)->TakeOwnership(owner_);  // Start takes a newer one
    if (!epoch.ok()) return epoch.status();
    DUO_RETURN_IF_ERROR(CaptureSchemaHistory());  // at `position`
    DUO_RETURN_IF_ERROR((*tables)->ResetCheckpoint(position));
    if (store_ != nullptr) DUO_RETURN_IF_ERROR(store_->Reset(position));
    return Start();
  }

  absl::Status Start() override {
    if (thread_.joinable()) return absl::FailedPreconditionError("the link is already running");
    absl::Status s = Begin();
    if (!s.ok() && store_ != nullptr) store_->Close();  // releases its directory lock
    return s;
  }

  absl::StatusOr<std::string> RecordStart() override {
    auto tables = CheckpointTables::Connect(link_.destination, link_.id, link_.guard.own_origin);
    if (!tables.ok()) return tables.status();
    DUO_RETURN_IF_ERROR((*tables)->EnsureTables());
    // Processes that start together may race: a stage another one has moved on is kept.
    return RecordStartIfNew(tables->get(), /*overwrite_stage=*/false, nullptr);
  }

  // The recorded start, or (none yet) this link's start recorded now: a link that migrates schema
  // or data first records that stage before its start position, so a crash between the two redoes
  // the (not yet begun) migration. `overwrite_stage`: replace a stage row left without a
  // checkpoint (the owner's own start) rather than keep it. *resumed: whether one was recorded.
  absl::StatusOr<std::string> RecordStartIfNew(CheckpointTables* tables, bool overwrite_stage, bool* resumed) {
    auto recorded = tables->ReadCheckpoint();
    if (!recorded.ok()) return recorded.status();
    if (resumed != nullptr) *resumed = recorded->has_value();
    if (recorded->has_value()) return **recorded;
    auto start = StartPosition();
    if (!start.ok()) return start.status();
    if (link_.start_position.empty() || !link_.source_binlog_dir.empty()) {
      // The source's definitions now are those at its binlog end just read: the start of the
      // schema history, which rows without column names decode by. (A DDL in the moment between
      // is replayed on definitions that have it already: refused or without effect, it leaves
      // them as they are.) A link of binlog files starts an empty one.
      DUO_RETURN_IF_ERROR(CaptureSchemaHistory());
    }
    if (link_.schema_migration || link_.full_copy) {
      const std::string stage = link_.full_copy ? "full" : "schema";
      DUO_RETURN_IF_ERROR(overwrite_stage ? tables->WriteStage(stage, "") : tables->InitStage(stage));
    }
    return tables->InitCheckpoint(*start);  // the first process's wins
  }

  absl::Status CaptureSchemaHistory() {
    // Binlog files: the history learns each table from the destination as DDL names it.
    if (!link_.source_binlog_dir.empty()) return SchemaHistory::Forget(SchemaHistoryOptions{link_.destination, link_.id});
    Router router(link_.link, link_.objects, link_.case_insensitive);
    return SchemaHistory::Capture(link_.source, SchemaHistoryOptions{link_.destination, link_.id},
                                  [&router](const TableRef& t) { return router.Wants(t); });
  }

  // Start's work: records or reads the start, takes ownership, starts the pump and the thread.
  absl::Status Begin() {
    auto tables = CheckpointTables::Connect(link_.destination, link_.id, link_.guard.own_origin);
    if (!tables.ok()) return tables.status();
    DUO_RETURN_IF_ERROR((*tables)->EnsureTables());
    // A second process on the same store is refused here, before it could take the link over
    // from the first and then fail itself (leaving no writer at all).
    if (store_ != nullptr) DUO_RETURN_IF_ERROR(store_->Open());
    // This process writes the link from now on; one that wrote it before can commit nothing more.
    auto epoch = (*tables)->TakeOwnership(owner_);
    if (!epoch.ok()) return epoch.status();
    // Durable before Start returns: a crash from now on resumes here, losing nothing.
    bool resumed = false;
    auto recorded = RecordStartIfNew(tables->get(), /*overwrite_stage=*/true, &resumed);
    if (!recorded.ok()) return recorded.status();
    const std::string position = *recorded;
    if (resumed) {
      LOG(INFO) << link_.id << ": resuming from " << position;
    } else {
      LOG(INFO) << link_.id << ": starting at " << (position.empty() ? "the binlog's start" : position);
    }
    auto stage = (*tables)->ReadStage();
    if (!stage.ok()) return stage.status();
    if (stage->first == kSwitchedStage) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the ", LinkName(link_.direction), " link was retired by a switchover (the project runs the "
          "other way since ", stage->second, "); switch over again to run it"));
    }
    if (store_ != nullptr) {
      DUO_RETURN_IF_ERROR(store_->StartPump(position, [this] { return AppliedPosition(); }));
    }
    state_.SetStarted(stage->first, position);  // "schema" / "full" until the migration is done
    state_.SetOwner(owner_, *epoch);
    epoch_ = *epoch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished_ = false;
      result_ = absl::OkStatus();
    }
    stop_ = false;
    thread_ = std::thread([this] { Run(); });
    if (link_.active_active) {
      pruner_ = std::make_unique<ConflictLogPruner>(link_.destination, link_.guard.own_origin, link_.id,
                                                    ConflictLogRetention(link_.conflicts));
    }
    return absl::OkStatus();
  }

  void Stop() override {
    stop_ = true;
    state_.CancelFeed();
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    pruner_.reset();
    if (store_ != nullptr) store_->Close();  // stops the pump, releases the directory lock
    const std::string stage = state_.stage();
    if (stage != "failed" && stage != "created") state_.SetStage("stopped");
  }

  void Pause() override {
    Stop();
    if (state_.stage() == "stopped") state_.SetStage("paused");
  }

  absl::StatusOr<std::string> Replay(const std::string& from) override {
    if (thread_.joinable()) return absl::FailedPreconditionError("stop the link before a replay");
    if (store_ == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the ", LinkName(link_.direction), " link keeps no record store to replay from: set its "
          "options.retention_hours and the project's data_dir"));
    }
    DUO_RETURN_IF_ERROR(store_->Open());
    // The store is closed again when this returns; Start reopens it.
    struct Close {
      LinkStore* store;
      ~Close() { store->Close(); }
    } close{store_.get()};
    auto target = store_->ReplayTarget(from);
    if (!target.ok()) return target.status();
    auto tables = CheckpointTables::Connect(link_.destination, link_.id);
    if (!tables.ok()) return tables.status();
    DUO_RETURN_IF_ERROR((*tables)->EnsureTables());
    // A rewind takes the link over: a process still running it must not write over the rewind.
    auto epoch = (*tables)->TakeOwnership(owner_);
    if (!epoch.ok()) return epoch.status();
    auto rewound = store_->Rewind(*target, tables->get());
    if (!rewound.ok()) return rewound.status();
    state_.SetRewound(*rewound);
    return rewound;
  }

  absl::Status Wait(absl::Duration timeout) override {
    std::unique_lock<std::mutex> lock(mu_);
    const bool done = done_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                        [this] { return finished_; });
    if (!done) {
      return absl::DeadlineExceededError(absl::StrCat(LinkName(link_.direction), " link still runs"));
    }
    return result_;
  }

  report::LinkStatus Status() const override {
    report::LinkStatus s = state_.Snapshot();
    s.set_conflicts(conflicts_.total());
    for (const auto& [key, count] : conflicts_.ByOutcome()) {
      report::ConflictCount* c = s.add_conflicts_by_outcome();
      c->set_policy(key.first);
      c->set_outcome(key.second);
      c->set_count(count);
    }
    report::StoreStatus store;
    if (store_ != nullptr && store_->Stats(&store)) *s.mutable_store() = std::move(store);
    return s;
  }

  std::string ConflictsJson() const override { return conflicts_.ToJson(); }

 private:
  // Where a link without a checkpoint starts: start_gtid, else the source's binlog end.
  absl::StatusOr<std::string> StartPosition() const {
    if (!link_.start_position.empty()) {
      DUO_RETURN_IF_ERROR(CheckStartAt(link_.start_position));
      return link_.start_position;
    }
    if (!link_.source_binlog_dir.empty()) return std::string();  // the first file's beginning
    auto conn = SqlConnection::Connect(link_.source);
    if (!conn.ok()) return conn.status();
    return ReadBinlogPosition(conn->get());
  }

  // A start position given by the user must fit the live source: its dialect, its servers, not
  // past its end (a position of a binlog-file source is checked by the files). A source that
  // cannot be asked now is not a reason to refuse: the link's sessions retry it.
  absl::Status CheckStartAt(const std::string& position) const {
    if (!link_.source_binlog_dir.empty()) return absl::OkStatus();
    auto conn = SqlConnection::Connect(link_.source);
    absl::Status fits = conn.ok() ? CheckStartPosition(conn->get(), position) : conn.status();
    if (absl::IsInvalidArgument(fits)) return absl::InvalidArgumentError(absl::StrCat(link_.id, ": ", fits.message()));
    if (!fits.ok()) LOG(WARNING) << link_.id << ": cannot check start position " << position << " now: " << fits;
    return absl::OkStatus();
  }

  // Sessions one after another: a retryable error (a lost server, a deadlock) reconnects with
  // backoff; any other error stops the link as "failed".
  void Run() {
    auto backoff = std::chrono::milliseconds(200);
    while (!stop_) {
      LinkSession session(link_, epoch_, &state_,
                          store_ != nullptr && store_->pumping() ? store_.get() : nullptr, resolver_.get(), &stop_);
      absl::Status s = session.Run();
      if (stop_) break;
      if (session.corrupt_at().has_value()) s = TruncateStore(s, *session.corrupt_at());
      // A retry of a link that another process has taken over (its reader may be refused while
      // the other reads with the same replica id) ends here instead of retrying forever.
      if (IsRetryable(s)) {
        absl::Status owner = CheckStillOwner();
        if (IsFenced(owner)) s = owner;
      }
      // Lent to a tool (verify --repair of another process), not taken over: back when it is done.
      if (IsFenced(s)) {
        auto back = TakeBackFromBorrower(s);
        if (stop_) break;
        if (back.ok() && *back) {
          backoff = std::chrono::milliseconds(200);
          continue;
        }
        if (!back.ok() && IsRetryable(back.status())) s = back.status();
        if (back.ok()) {  // taken over for real, perhaps during a loan: name the owner now
          absl::Status owner = CheckStillOwner();
          if (IsFenced(owner)) s = owner;
        }
      }
      if (IsRetryable(s)) {
        LOG(WARNING) << link_.id << ": " << s << "; reconnecting in " << backoff.count() << " ms";
        state_.SetRetrying(s);
        std::unique_lock<std::mutex> lock(wait_mu_);
        wake_.wait_for(lock, backoff, [this] { return stop_.load(); });
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        if (session.made_progress()) backoff = std::chrono::milliseconds(200);
        continue;
      }
      LOG(ERROR) << link_.id << " failed: " << s;
      state_.SetFailed(s);
      std::lock_guard<std::mutex> lock(mu_);
      result_ = s;
      break;
    }
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    done_cv_.notify_all();
  }

  // FailedPrecondition (IsFenced) when another process has taken the link over; OK otherwise,
  // also when the destination cannot be asked now (the retry finds out).
  absl::Status CheckStillOwner() const {
    if (epoch_ == 0) return absl::OkStatus();
    auto conn = SqlConnection::Connect(link_.destination);
    if (!conn.ok()) return absl::OkStatus();
    absl::Status s = BeginFenced(conn->get(), Fence{link_.id, epoch_});
    (void)(*conn)->Execute("ROLLBACK");
    return IsFenced(s) ? s : absl::OkStatus();
  }

  // After `fenced`: when the link's owner is a borrower, waits for it to finish and takes the link
  // back (a new epoch; the next session resumes from the destination's checkpoint and stage, which
  // the borrower may have moved). False when another process has really taken the link over.
  absl::StatusOr<bool> TakeBackFromBorrower(const absl::Status& fenced) {
    auto conn = SqlConnection::Connect(link_.destination);
    if (!conn.ok()) return conn.status();
    auto epoch = TakeBackAfterLoan(
        conn->get(), link_.id, owner_,
        [this](const std::string& borrower) {
          state_.SetRetrying(absl::UnavailableError(absl::StrCat("waiting for the link back: it is ", borrower)));
        },
        [this] { return stop_.load(); });
    if (!epoch.ok()) return epoch.status();
    if (!epoch->has_value()) return false;
    LOG(INFO) << link_.id << ": took the link back after a loan (" << fenced.message() << ")";
    epoch_ = **epoch;
    state_.SetOwner(owner_, epoch_);
    return true;
  }

  // A session met a corrupt record in the store: cut the store there and read the rest from the
  // source again. Returns the status the run loop goes on with.
  absl::Status TruncateStore(const absl::Status& cause, const RecordLocation& at) {
    LOG(ERROR) << link_.id << ": " << cause << "; truncating the record store there";
    DUO_RETURN_IF_ERROR(store_->TruncateAt(at, state_.durable_position()));
    return absl::UnavailableError(absl::StrCat(cause.message(), " (the store was truncated there; "
                                               "reading the rest from the source again)"));
  }

  // What the destination has durably applied (the watermark), for the store's retention.
  GtidPosition AppliedPosition() const {
    auto parsed = GtidPosition::Parse(state_.durable_position());
    return parsed.ok() ? *parsed : GtidPosition();
  }

  const LinkConfig link_;
  const std::string owner_ = NewOwnerName();  // this link object as the writer of its link
  uint64_t epoch_ = 0;  // ownership taken by the last Start (link thread reads it)
  LinkState state_;
  ConflictLog conflicts_;
  std::unique_ptr<ConflictResolver> resolver_;  // active-active links only
  std::unique_ptr<LinkStore> store_;            // links that keep records only
  std::unique_ptr<ConflictLogPruner> pruner_;   // active-active links, while started

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex wait_mu_;
  std::condition_variable wake_;

  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  bool finished_ = false;
  absl::Status result_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Link>> Link::Create(const LinkConfig& config) {
  if (!config.incremental) {
    return absl::UnimplementedError(absl::StrCat(
        "the ", LinkName(config.direction), " link has no INCREMENTAL stage; links that only migrate "
        "schema or data once are not supported yet: add INCREMENTAL"));
  }
  return std::unique_ptr<Link>(new LinkImpl(config));
}

}  // namespace duosync
