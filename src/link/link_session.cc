#include "link/link_session.h"

#include "absl/strings/str_cat.h"
#include "apply/checkpoint_tables.h"
#include "apply/conflict_policy.h"
#include "base/status_macros.h"
#include "base/system_schemas.h"
#include "glog/logging.h"
#include "link/initial_migration.h"
#include "link/reader_options.h"
#include "config/object_selector.h"
#include "source/binlog_directory_feed.h"
#include "source/live_source.h"
#include "source/schema_history.h"
#include "sql/ddl.h"

namespace duosync {

absl::Status LinkSession::Run() {
  made_progress_ = false;
  auto tables = CheckpointTables::Connect(link_.destination, link_.id);
  if (!tables.ok()) return tables.status();
  (*tables)->set_fence(epoch_);
  auto recorded = (*tables)->ReadCheckpoint();
  if (!recorded.ok()) return recorded.status();
  if (!recorded->has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the checkpoint of link ", link_.id, " vanished from the destination's ", kMetaSchema,
        ".checkpoint table; restart the project to record a new start"));
  }
  auto position = GtidPosition::Parse(**recorded);
  if (!position.ok()) {
    return absl::DataLossError(absl::StrCat("corrupt checkpoint: ", position.status().message()));
  }
  auto stage = (*tables)->ReadStage();
  if (!stage.ok()) return stage.status();
  if (stage->first != "incremental") {
    DUO_RETURN_IF_ERROR(RunInitialMigration(link_, epoch_, tables->get(), stop_, state_));
    stage = (*tables)->ReadStage();
    if (!stage.ok()) return stage.status();
  }
  auto copy_end = GtidPosition::Parse(stage->second);
  if (!copy_end.ok()) return copy_end.status();
  tables->reset();

  auto applier = ParallelApplier::Start(ApplierOptionsFor(), *position);
  if (!applier.ok()) return applier.status();
  Planner planner(link_, [a = applier->get()](const Gtid& g) { return a->AlreadyApplied(g); }, *copy_end);
  std::unique_ptr<TransactionFeed> feed;
  StoreFeed* store_feed = nullptr;
  if (store_ != nullptr) {
    // The reader runs on its own (the pump); the applier reads the store from the checkpoint.
    auto stored = store_->NewFeed(*position);
    if (!stored.ok()) return stored.status();
    store_feed = stored->get();
    feed = std::move(*stored);
  } else if (!link_.source_binlog_dir.empty()) {
    auto files = OpenBinlogDirectory(*position, &planner.router());
    if (!files.ok()) return files.status();
    feed = std::move(*files);
  } else {
    ReaderOptions options = ReaderOptionsFor(link_, &planner.router());
    options.start = *position;
    options.part_bytes = link_.transaction_part_bytes;  // Follow applies parts as they come
    auto reader = OpenLiveSource(options);
    if (!reader.ok()) return reader.status();
    feed = std::move(*reader);
  }
  state_->SessionStarted(applier->get(), feed.get());
  absl::Status s = Follow(feed.get(), applier->get(), &planner);
  if (store_feed != nullptr && store_feed->corrupt_at().has_value()) corrupt_at_ = store_feed->corrupt_at();
  (*applier)->Stop();  // before the planner goes: tasks point into its routes
  state_->SessionEnded((*applier)->progress());
  // The applier's error is the cause when it cancelled the reader.
  absl::Status applier_error = (*applier)->error();
  return applier_error.ok() ? s : applier_error;
}

absl::Status LinkSession::Follow(TransactionFeed* feed, ParallelApplier* applier, Planner* planner) {
  while (!*stop_) {
    DUO_RETURN_IF_ERROR(applier->error());
    auto next = feed->Next();
    if (!next.ok()) return *stop_ ? absl::OkStatus() : next.status();
    if (feed->TakeRotated()) applier->CheckpointDeferred();
    if (!next->has_value()) {  // the reader is at the source's end (or the store's)
      state_->ReaderIdle(store_ != nullptr ? store_->idle_position() : feed->position().ToString(),
                         made_progress_);
      continue;
    }
    state_->ReaderBusy();
    auto planned = planner->Plan(std::move(**next), feed->position().ToString());
    state_->NoteFiltered(planner->FilteredTables());
    if (planner->router().refused_count() != refused_noted_) {
      refused_noted_ = planner->router().refused_count();
      state_->NoteRefused(planner->router().RefusedTables());
    }
    if (!planned.ok()) {
      // Stop right before it: everything before it is applied and checkpointed.
      absl::Status drained = applier->Drain();
      return drained.ok() ? planned.status() : drained;
    }
    if (planned->task.txn.part > 0) {
      return absl::DataLossError(absl::StrCat("part ", planned->task.txn.part, " of transaction ",
                                              planned->task.txn.gtid.ToString(), " came without its first part"));
    }
    if (planned->task.txn.more_parts) {
      absl::Status s = FollowParts(feed, applier, planner, *std::move(planned));
      if (!s.ok()) return *stop_ ? absl::OkStatus() : s;
      if (feed->TakeRotated()) applier->CheckpointDeferred();
      continue;
    }
    if (planned->echo) state_->AddEcho();
    if (!planned->task.changes.empty()) made_progress_ = true;
    DUO_RETURN_IF_ERROR(applier->Submit(std::move(planned->task)));
  }
  return absl::OkStatus();
}

absl::Status LinkSession::FollowParts(TransactionFeed* feed, ParallelApplier* applier, Planner* planner,
                                      PlannedTask first) {
  const Gtid gtid = first.task.txn.gtid;
  auto next_part = [&]() -> absl::StatusOr<Transaction> {
    while (true) {
      if (*stop_) return absl::CancelledError("the link is stopping");
      auto next = feed->Next();
      if (!next.ok()) return next.status();
      if (next->has_value()) return std::move(**next);
      // (Only a record store pauses inside a transaction: its next part is not stored yet.)
    }
  };
  if (first.echo || applier->AlreadyApplied(gtid)) {
    // Passed over whole (an echo's later parts carry no marker of their own to say so).
    if (first.echo) state_->AddEcho();
    for (bool more = true; more;) {
      auto part = next_part();
      if (!part.ok()) return part.status();
      more = part->more_parts;
    }
    ApplyTask placed;  // its place in order moves the checkpoint
    placed.txn.gtid = gtid;
    placed.position = feed->position().ToString();
    return applier->Submit(std::move(placed));
  }
  made_progress_ = true;
  LOG(INFO) << link_.id << ": transaction " << gtid.ToString() << " is big: applying it in parts";
  return applier->ApplyStreamed(std::move(first.task), [&]() -> absl::StatusOr<std::unique_ptr<ApplyTask>> {
    auto part = next_part();
    if (!part.ok()) return part.status();
    auto planned = planner->Plan(*std::move(part), feed->position().ToString());
    if (!planned.ok()) return planned.status();
    if (planned->echo) {  // the marker is written first: only a first part can say so
      return absl::InternalError(absl::StrCat("a later part of transaction ", gtid.ToString(), " is an echo"));
    }
    return std::make_unique<ApplyTask>(std::move(planned->task));
  });
}

absl::StatusOr<std::unique_ptr<TransactionFeed>> LinkSession::OpenBinlogDirectory(
    const GtidPosition& start, const Router* router) const {
  // The files' tables are described by the destination, which holds a copy of their start state
  // (under the link's destination names).
  auto catalog = SqlConnection::Connect(link_.destination);
  if (!catalog.ok()) return catalog.status();
  auto selector = std::make_shared<ObjectSelector>(link_.objects, link_.case_insensitive);
  auto destination_name = [selector](const TableRef& t) {
    auto chosen = selector->Select(t);
    return chosen.has_value() ? chosen->destination : t;
  };
  auto resolver = std::make_shared<SchemaResolver>(std::move(*catalog), destination_name);
  // Files without column names decode by a history that learns each table from the destination
  // when a DDL first names it: the reader runs ahead of the destination's copy of that DDL.
  auto wants = [router](const TableRef& t) { return router->Wants(t); };
  resolver->EnableHistory(SchemaHistoryOptions{link_.destination, link_.id, destination_name}, start, wants);
  BinlogDirectoryFeed::Options o;
  o.directory = link_.source_binlog_dir;
  o.start = start;
  o.wants = wants;
  o.part_bytes = link_.transaction_part_bytes;
  o.schema_for = [resolver](const TableMapInfo& map) { return resolver->Resolve(map); };
  o.on_ddl = [resolver](const Transaction& ddl, bool covered) {
    if (covered) {  // the history has it already
      resolver->Invalidate();
      return absl::OkStatus();
    }
    return resolver->FollowDdl(ddl.gtid, ddl.ddl_schema, ddl.ddl, DdlSqlModeOf(ddl.sql_mode));
  };
  auto feed = BinlogDirectoryFeed::Open(std::move(o));
  if (!feed.ok()) return feed.status();
  return std::unique_ptr<TransactionFeed>(std::move(*feed));
}

ApplierOptions LinkSession::ApplierOptionsFor() const {
  ApplierOptions a;
  a.destination = link_.destination;
  a.link_id = link_.id;
  a.origin = link_.guard.own_origin;
  a.epoch = epoch_;
  a.resolver = resolver_;
  a.workers = link_.apply_workers;
  a.in_order = link_.active_active && MayStop(link_.conflicts);
  a.batch_transactions = link_.apply_batch_transactions;
  a.batch_rows = link_.apply_batch_rows;
  // A failed apply ends the session at once, not at the reader's next event.
  a.on_failure = [state = state_] { state->CancelFeed(); };
  return a;
}

}  // namespace duosync
