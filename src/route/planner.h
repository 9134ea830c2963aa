// Planner: the routing stage of a link. Turns each source transaction into the task the applier
// runs, deciding on the way what the link does with it:
//   drop it     an echo of the opposite link (loop prevention), or applied by an earlier session;
//   route it    which rows reach the destination and how (router.h);
//   order it    a barrier (applied alone, in order) for DDL, tables whose keys cannot be trusted
//               and the serial_tables option; idempotent up to where the full copy ended;
//   rewrite it  a synced table's DDL, for the destination (ddl.h);
//   refuse it   an unsupported DDL or a statement-format DML in a synced schema: the link must
//               stop right before it.
// Not thread-safe: one per session.
#ifndef DUOSYNC_SRC_ROUTE_PLANNER_H_
#define DUOSYNC_SRC_ROUTE_PLANNER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/gtid_position.h"
#include "base/transaction.h"
#include "config/resolved_config.h"
#include "route/apply_task.h"
#include "route/router.h"

namespace duosync {

struct PlannedTask {
  ApplyTask task;     // a no-op (no changes) for a dropped transaction: it still moves the checkpoint
  bool echo = false;  // dropped as an echo of the opposite link
};

class Planner {
 public:
  // `applied_before`: whether an earlier session applied a GTID (the applier's record).
  // `copy_end`: where the full copy ended (transactions up to it apply idempotently).
  Planner(const LinkConfig& link, std::function<bool(const Gtid&)> applied_before, GtidPosition copy_end);

  // The task for `txn`, read from the source up to `position`. FailedPrecondition when the link
  // must stop right before it (the message says why and how to go on); the router's errors.
  absl::StatusOr<PlannedTask> Plan(Transaction txn, std::string position);

  // Selected tables left out because they have no primary key or NOT NULL unique key.
  std::vector<std::string> FilteredTables() const { return router_.FilteredTables(); }

  // Which tables the link syncs (the reader decodes only their rows).
  const Router& router() const { return router_; }

 private:
  bool IsBarrier(const Transaction& txn, const std::vector<RoutedChange>& changes) const;
  bool NamesSyncedSchema(const Transaction& txn) const;
  absl::Status PrepareDdl(ApplyTask* task);

  const LinkConfig& link_;
  Router router_;
  std::function<bool(const Gtid&)> applied_before_;
  GtidPosition copy_end_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_ROUTE_PLANNER_H_
