// Sink: one destination connection that writes routed transactions (DML and DDL). Several source
// transactions may go into one destination transaction (merging); each applied source transaction
// leaves its GTID in duosync.applied (checkpoint_tables.h) in that same destination transaction.
// A transaction is sent as few multi-statement batches as its size allows (one round trip for
// ordinary transactions). An UPDATE or DELETE that finds no row stops the batch
// before COMMIT: the transaction is rolled back and reported.
// Not thread-safe: one sink per applier thread.
#ifndef DUOSYNC_SRC_APPLY_SINK_H_
#define DUOSYNC_SRC_APPLY_SINK_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "apply/conflict_resolver.h"
#include "apply/fence.h"
#include "route/apply_task.h"
#include "route/router.h"
#include "sql/sql_connection.h"

namespace duosync {

// The error of a transaction whose GTID duosync.applied already holds: it was applied before
// (by a session whose COMMIT reply was lost), and must not be applied again.
absl::Status AlreadyAppliedError(const std::string& detail);
bool IsAlreadyApplied(const absl::Status& s);

class Sink {
 public:
  // Connects a destination session (destination_session.h), tagged with `origin`. With a
  // non-zero `epoch` every transaction is fenced by it (fence.h): once another process has taken
  // the link over, each fails with IsFenced.
  static absl::StatusOr<std::unique_ptr<Sink>> Connect(const ConnectOptions& destination,
                                                       std::string link_id, uint32_t origin = 0,
                                                       uint64_t epoch = 0);

  // Applies the tasks (REQUIRES: mutually independent) in one destination transaction and records
  // their GTIDs. On failure nothing of them is committed; the error names the table and key.
  // With `match_image`, UPDATE/DELETE must find the row as its before image (active-active).
  // With `group_statements` (and not `match_image`), changes of the same kind to the same table
  // go as one statement where no shared key orders them apart (statement_grouping.h).
  // `before_commit`, when given, runs once every statement has run and passed its checks, just
  // before COMMIT; an error from it rolls the transaction back and is returned.
  absl::Status ApplyBatch(const std::vector<const ApplyTask*>& tasks, bool match_image = false,
                          bool group_statements = false,
                          const std::function<absl::Status()>& before_commit = nullptr);

  // Runs a task's DDL, then records its GTID. The DDL runs on a connection of its own that waits
  // for it however long it takes (an ALTER of a big table, or one queued behind a lock): giving
  // up on it would send it again while the first still runs. Only a destination that stops
  // answering for the destination timeout cuts it (Unavailable: retried after reconnecting).
  absl::Status ApplyDdl(const ApplyTask& task);

  // Applies one task change by change, resolving each conflict by the resolver's policy, in one
  // destination transaction with its GTID record.
  absl::Status ApplyResolving(const ApplyTask& task, ConflictResolver* resolver);

  // Applies one source transaction that arrives in parts (Transaction::more_parts), in one
  // destination transaction: `first`, then each part `next` gives until the last; a part's rows
  // are sent before the next is asked for, so one part at a time is held. Through `resolver`
  // when given (active-active). Its GTID is recorded with it; *rows counts the changes written.
  // On failure nothing of it is committed.
  using NextPart = std::function<absl::StatusOr<std::unique_ptr<ApplyTask>>()>;
  absl::Status ApplyStreamed(std::unique_ptr<ApplyTask> first, const NextPart& next,
                             ConflictResolver* resolver, uint64_t* rows);

  SqlConnection* connection() { return conn_.get(); }
  // Whether the session's isolation level makes a statement wait for rows another transaction
  // wrote and has not committed (REPEATABLE READ, SERIALIZABLE), rather than pass them over as
  // READ COMMITTED's semi-consistent reads may: what releasing before commit relies on.
  bool waits_for_uncommitted_rows() const { return waits_for_uncommitted_rows_; }

 private:
  Sink(std::unique_ptr<SqlConnection> conn, std::string link_id, uint64_t epoch);
  class Batch;
  absl::Status CommitBatch(Batch* batch, const std::function<absl::Status()>& before_commit);

  std::unique_ptr<SqlConnection> conn_;
  ConnectOptions destination_;   // for the DDL connection and its watchdog
  uint32_t origin_ = 0;
  size_t max_packet_ = 1 << 20;  // the destination's max_allowed_packet
  bool waits_for_uncommitted_rows_ = false;
  std::string link_id_;
  std::string quoted_link_id_;
  Fence fence_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_SINK_H_
