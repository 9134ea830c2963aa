#include "link/link_store.h"

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "glog/logging.h"
#include "link/reader_options.h"

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

// What the store's records depend on besides the source: which tables were decoded, and which
// transactions came back as echoes. A store filled under another selection cannot serve the link.
std::string SelectionOf(const LinkConfig& link) {
  // "mode:" keeps the tenant mode's enum number, as stores written before the config was resolved
  // once recorded it (only MySQL-mode links run).
  return absl::StrCat(link.objects.ShortDebugString(),
                      " mode:", link.case_insensitive ? config::MYSQL : config::ORACLE,
                      " origin:", link.guard.drop_origin, " marker:", link.guard.drop_marker_link_id);
}

}  // namespace

absl::Status LinkStore::Open() {
  if (store_ != nullptr) return absl::OkStatus();
  StoreOptions o;
  o.dir = link_.store_dir;
  o.retention = link_.retention;
  if (link_.store_segment_bytes > 0) o.segment_bytes = link_.store_segment_bytes;
  auto store = RecordStore::Open(o);
  if (!store.ok()) return store.status();
  std::lock_guard<std::mutex> lock(mu_);
  store_ = std::move(*store);
  return absl::OkStatus();
}

void LinkStore::Close() {
  StopPump();
  std::lock_guard<std::mutex> lock(mu_);
  store_.reset();
}

absl::Status LinkStore::Reset(const std::string& position) {
  DUO_RETURN_IF_ERROR(Open());
  auto start = GtidPosition::Parse(position);
  if (!start.ok()) return start.status();
  return store_->Reset(*start);
}

absl::Status LinkStore::StartPump(const std::string& position, std::function<GtidPosition()> applied) {
  DUO_RETURN_IF_ERROR(Open());
  auto checkpoint = GtidPosition::Parse(position);
  if (!checkpoint.ok()) return checkpoint.status();
  const std::string selection_path = store_->dir() + "/SELECTION";
  const std::string selection = SelectionOf(link_);
  std::string stored_selection;
  {
    std::ifstream in(selection_path);
    std::getline(in, stored_selection, '\0');
  }
  const bool reselected = store_->initialized() && stored_selection != selection;
  if (!store_->Holds(*checkpoint) || reselected) {
    if (store_->initialized()) {
      LOG(WARNING) << link_.id << ": the record store "
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
  pump_router_ = std::make_unique<Router>(link_.link, link_.objects, link_.case_insensitive);
  PumpOptions o;
  o.reader = ReaderOptionsFor(link_, pump_router_.get());
  o.reader.part_bytes = link_.transaction_part_bytes;  // stored as parts, applied as parts
  applied_ = applied;
  o.applied = std::move(applied);
  pump_ = std::make_unique<StorePump>(store_.get(), std::move(o));
  pump_->Start();
  LOG(INFO) << link_.id << ": record store " << store_->dir() << " holds " << store_->start().ToString()
            << " .. " << store_->end().ToString() << "; reading the source from there";
  return absl::OkStatus();
}

void LinkStore::StopPump() {
  if (pump_ != nullptr) pump_->Stop();
  pump_.reset();
  pump_router_.reset();
}

absl::StatusOr<std::unique_ptr<StoreFeed>> LinkStore::NewFeed(const GtidPosition& checkpoint) {
  auto cursor = store_->NewCursor(checkpoint);
  if (!cursor.ok()) return cursor.status();
  return std::make_unique<StoreFeed>(std::move(*cursor), pump_.get());
}

std::string LinkStore::idle_position() const {
  return pump_ != nullptr ? pump_->idle_position() : std::string();
}

absl::Status LinkStore::TruncateAt(const RecordLocation& at, const std::string& position) {
  StopPump();
  DUO_RETURN_IF_ERROR(store_->TruncateAt(at));
  return StartPump(position, applied_);
}

absl::StatusOr<GtidPosition> LinkStore::ReplayTarget(const std::string& from) const {
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
  return target;
}

absl::StatusOr<std::string> LinkStore::Rewind(const GtidPosition& target, CheckpointTables* tables) {
  DUO_RETURN_IF_ERROR(tables->EnsureTables());
  auto recorded = tables->ReadCheckpoint();
  if (!recorded.ok()) return recorded.status();
  auto stage = tables->ReadStage();
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
  auto applied = tables->ReadApplied();
  if (!applied.ok()) return applied.status();
  idempotent_until.Merge(*checkpoint);
  idempotent_until.Merge(store_->end());
  for (const Gtid& gtid : *applied) {
    if (!idempotent_until.Covers(gtid)) idempotent_until.Advance(gtid);
  }
  DUO_RETURN_IF_ERROR(tables->WriteStage("incremental", idempotent_until.ToString()));
  DUO_RETURN_IF_ERROR(tables->ResetCheckpoint(target.ToString()));
  LOG(INFO) << link_.id << ": rewound from " << checkpoint->ToString() << " to " << target.ToString()
            << " for a replay (idempotent up to " << idempotent_until.ToString() << ")";
  return target.ToString();
}

bool LinkStore::Stats(report::StoreStatus* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (store_ == nullptr) return false;
  const StoreStats st = store_->stats();
  out->set_dir(store_->dir());
  out->set_bytes(st.bytes);
  out->set_segments(st.segments);
  out->set_transactions(st.transactions);
  out->set_oldest_commit_time(st.oldest_commit_time);
  out->set_newest_commit_time(st.newest_commit_time);
  out->set_start_position(st.start_position);
  out->set_end_position(st.end_position);
  return true;
}

}  // namespace duosync
