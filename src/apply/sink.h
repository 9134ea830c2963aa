// Sink: one destination connection that writes routed transactions. Several source transactions
// may go into one destination transaction (merging); each applied source transaction leaves its
// GTID in duosync.applied in that same destination transaction, so after a crash the link knows
// exactly which transactions above its checkpoint (duosync.checkpoint, the low watermark) were
// already applied. A transaction is sent as few multi-statement batches as its size allows (one
// round trip for ordinary transactions). An UPDATE or DELETE that finds no row stops the batch
// before COMMIT: the transaction is rolled back and reported.
// Not thread-safe: one sink per applier thread.
#ifndef DUOSYNC_SRC_APPLY_SINK_H_
#define DUOSYNC_SRC_APPLY_SINK_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "route/apply_task.h"
#include "apply/conflict.h"
#include "base/system_schemas.h"
#include "base/gtid_position.h"
#include "route/router.h"
#include "sql/sql_connection.h"

namespace duosync {

// The error of a transaction whose GTID duosync.applied already holds: it was applied before
// (by a session whose COMMIT reply was lost), and must not be applied again.
absl::Status AlreadyAppliedError(const std::string& detail);
bool IsAlreadyApplied(const absl::Status& s);

class Sink {
 public:
  // Connects and prepares the session (UTC time zone, strict SQL mode, utf8mb4). A non-zero
  // `origin` tags everything the session writes with that server_id and gtid_domain_id (loop
  // prevention by session origin).
  static absl::StatusOr<std::unique_ptr<Sink>> Connect(const ConnectOptions& destination,
                                                       std::string link_id, uint32_t origin = 0);

  // Creates duosync.checkpoint if missing.
  absl::Status EnsureCheckpointTable();
  // The link's recorded position, nullopt before its first start.
  absl::StatusOr<std::optional<std::string>> ReadCheckpoint();
  // Records `position` as the start unless one is recorded already; returns the recorded one.
  absl::StatusOr<std::string> InitCheckpoint(const std::string& position);

  // The link's stage and the position where its full copy ended ("incremental", "" when the link
  // has no stage row: links without schema/full migration).
  absl::Status WriteStage(const std::string& stage, const std::string& copy_end);
  absl::StatusOr<std::pair<std::string, std::string>> ReadStage();

  // Records `position` as the link's start whatever was recorded before (a switchover).
  absl::Status ResetCheckpoint(const std::string& position);

  // GTIDs recorded in duosync.applied for this link (applied above the checkpoint).
  absl::StatusOr<std::vector<Gtid>> ReadApplied();

  // Applies the tasks (REQUIRES: mutually independent) in one destination transaction and records
  // their GTIDs. On failure nothing of them is committed; the error names the table and key.
  // With `match_image`, UPDATE/DELETE must find the row as its before image (active-active).
  absl::Status ApplyBatch(const std::vector<const ApplyTask*>& tasks, bool match_image = false);

  // Runs a task's DDL, then records its GTID.
  absl::Status ApplyDdl(const ApplyTask& task);

  // Applies one task change by change, resolving each conflict by the resolver's policy, in one
  // destination transaction with its GTID record.
  absl::Status ApplyResolving(const ApplyTask& task, ConflictResolver* resolver);

  // Sets the checkpoint (low watermark) to `position` and forgets the applied GTIDs it covers,
  // atomically.
  absl::Status WriteWatermark(const GtidPosition& position, uint32_t commit_time);

  SqlConnection* connection() { return conn_.get(); }

 private:
  Sink(std::unique_ptr<SqlConnection> conn, std::string link_id);
  class Batch;

  std::unique_ptr<SqlConnection> conn_;
  std::string link_id_;
  std::string quoted_link_id_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_SINK_H_
