// The duosync.* bookkeeping tables of one link on its destination:
//   checkpoint  the low watermark: every source transaction up to it is applied;
//   applied     GTIDs applied above the watermark (each written in the same destination
//               transaction as its rows, so after a crash the link knows exactly what is done);
//   stage       "schema"/"full" until the copy is done, then "incremental", with the source
//               position where the copy ended (apply idempotently up to it).
// Not thread-safe: one per thread.
#ifndef DUOSYNC_SRC_APPLY_CHECKPOINT_TABLES_H_
#define DUOSYNC_SRC_APPLY_CHECKPOINT_TABLES_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "apply/fence.h"
#include "base/gtid_position.h"
#include "sql/sql_connection.h"

namespace duosync {

// Creates duosync.full_progress when missing: the full copy's resume points (one row per table,
// written with each chunk; under MARKER_TABLE also the forward link's marker).
absl::Status EnsureFullProgressTable(SqlConnection* conn);

// The stage of a one-way project's link that a switchover retired.
inline constexpr const char* kSwitchedStage = "switched";

// INSERT of `gtids` into duosync.applied for the link whose id is `quoted_link_id` (already a SQL
// literal), for the caller's open transaction. The key makes a second record of the same source
// transaction fail (ER_DUP_ENTRY) instead of doubling it, unless `ignore_duplicates`.
std::string RecordAppliedSql(const std::string& quoted_link_id, const std::vector<Gtid>& gtids,
                             bool ignore_duplicates = false);

class CheckpointTables {
 public:
  // Connects a destination session (tagged with `origin`, see destination_session.h).
  static absl::StatusOr<std::unique_ptr<CheckpointTables>> Connect(const ConnectOptions& destination,
                                                                   std::string link_id,
                                                                   uint32_t origin = 0);

  // Creates the schema and the tables if missing (with duosync.owner, fence.h).
  absl::Status EnsureTables();

  // Takes the link over for this process (a new ownership epoch) and fences every later write of
  // these tables with it. Returns the epoch.
  absl::StatusOr<uint64_t> TakeOwnership(const std::string& owner);
  // Fences the writes of these tables with an epoch taken before.
  void set_fence(uint64_t epoch) { fence_.epoch = epoch; }

  // The link's recorded position, nullopt before its first start.
  absl::StatusOr<std::optional<std::string>> ReadCheckpoint();
  // Records `position` as the start unless one is recorded already; returns the recorded one.
  absl::StatusOr<std::string> InitCheckpoint(const std::string& position);
  // Records `position` as the link's start whatever was recorded before (a switchover, a replay),
  // forgetting the applied GTIDs above the old one.
  absl::Status ResetCheckpoint(const std::string& position);

  // The link's stage and the position where its full copy ended ("incremental", "" when the link
  // has no stage row: links without schema/full migration). kSwitchedStage: a switchover retired
  // the link (its project runs the other way).
  absl::Status WriteStage(const std::string& stage, const std::string& copy_end);
  // Writes the stage only if the link has none yet (processes that start together agree).
  absl::Status InitStage(const std::string& stage);
  absl::StatusOr<std::pair<std::string, std::string>> ReadStage();
  // Runs a verification's repair `statements` and, in the same transaction, makes the link apply
  // every source transaction up to `through` idempotently when it resumes (as after a full copy):
  // the repaired rows were read at a source position the stopped link had not reached.
  absl::Status ApplyRepair(const std::vector<std::string>& statements, const std::string& through);

  // GTIDs recorded in duosync.applied for this link (applied above the checkpoint).
  absl::StatusOr<std::vector<Gtid>> ReadApplied();

  // Sets the checkpoint (low watermark) to `position` and forgets the applied GTIDs it covers,
  // atomically.
  absl::Status WriteWatermark(const GtidPosition& position, uint32_t commit_time);

 private:
  CheckpointTables(std::unique_ptr<SqlConnection> conn, std::string link_id);
  // Runs `sql` (statements separated by ';') in one fenced transaction.
  absl::Status Write(const std::string& sql);

  std::unique_ptr<SqlConnection> conn_;
  std::string link_id_;
  std::string quoted_link_id_;
  Fence fence_;  // epoch 0 until TakeOwnership / set_fence
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_CHECKPOINT_TABLES_H_
