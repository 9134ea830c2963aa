// LinkStore: the record store of a link that keeps one (retention_hours > 0), through its life:
// opened while the link runs, filled by a pump that reads the source from the store's end whatever
// the destination does, read by the sessions from their checkpoint, started afresh when it cannot
// serve the checkpoint (or was filled for another object selection), cut at a corrupt record, and
// rewound for a replay. Open/close and pump calls come from the link's control thread; Stats is
// thread-safe.
#ifndef DUOSYNC_SRC_LINK_LINK_STORE_H_
#define DUOSYNC_SRC_LINK_LINK_STORE_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "apply/checkpoint_tables.h"
#include "config/resolved_config.h"
#include "duosync/report.pb.h"
#include "route/router.h"
#include "store/record_store.h"
#include "store/store_pump.h"

namespace duosync {

class LinkStore {
 public:
  // REQUIRES: link.keeps_records; `link` outlives this.
  explicit LinkStore(const LinkConfig& link) : link_(link) {}
  ~LinkStore() { Close(); }

  // Opens the store (idempotent); a second process on the same directory is refused.
  absl::Status Open();
  // Stops the pump and closes the store, releasing its directory lock. Idempotent.
  void Close();

  // Empties the store to hold what comes after `position` (a switchover's new start).
  absl::Status Reset(const std::string& position);

  // Opens the store so that it holds what comes after the checkpoint `position`, and starts the
  // pump at the store's end (which may be past the checkpoint: the destination was behind).
  // `applied` tells what the destination has durably applied: retention never deletes past it.
  absl::Status StartPump(const std::string& position, std::function<GtidPosition()> applied);
  void StopPump();
  bool pumping() const { return pump_ != nullptr; }

  // A session's feed: the stored transactions after `checkpoint`, following the pump.
  // REQUIRES: pumping().
  absl::StatusOr<std::unique_ptr<StoreFeed>> NewFeed(const GtidPosition& checkpoint);
  // The source end while the pump waits there; empty while it reads.
  std::string idle_position() const;

  // Cuts the store before the corrupt record at `at` and restarts the pump from the checkpoint
  // `position`, so that the rest is read from the source again.
  absl::Status TruncateAt(const RecordLocation& at, const std::string& position);

  // Where a replay from `from` (a source commit time or a GTID position) starts: a position the
  // store holds. REQUIRES: Open().
  absl::StatusOr<GtidPosition> ReplayTarget(const std::string& from) const;
  // Rewinds the link's checkpoint on the destination to `target` for a replay; the stage row then
  // makes everything up to where the link had got apply idempotently. Returns the position
  // rewound to. REQUIRES: Open().
  absl::StatusOr<std::string> Rewind(const GtidPosition& target, CheckpointTables* tables);

  // The store's figures for status; false while it is closed.
  bool Stats(report::StoreStatus* out) const;

 private:
  const LinkConfig& link_;
  mutable std::mutex mu_;  // guards store_ itself (Stats reads it from other threads)
  std::unique_ptr<RecordStore> store_;
  std::unique_ptr<Router> pump_router_;  // the pump's view of which tables to decode
  std::function<GtidPosition()> applied_;  // of the last StartPump
  std::unique_ptr<StorePump> pump_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_LINK_LINK_STORE_H_
