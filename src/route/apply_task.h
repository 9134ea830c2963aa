// One source transaction on its way to the destination, as the applier sees it.
#ifndef DUOSYNC_SRC_ROUTE_APPLY_TASK_H_
#define DUOSYNC_SRC_ROUTE_APPLY_TASK_H_

#include <string>
#include <vector>

#include "base/transaction.h"
#include "route/router.h"

namespace duosync {

struct ApplyTask {
  Transaction txn;                    // owns the row images
  std::vector<RoutedChange> changes;  // what to write; points into txn and the router's routes
  std::string position;               // the source position just after this transaction
  bool barrier = false;               // must apply alone, after everything before it
  bool record = true;                 // record its GTID in duosync.applied (false: a no-op)
  // Moving the checkpoint past it alone is not worth a destination write (the opposite link's
  // bookkeeping): the next real write carries it, and a restart merely reads it again.
  bool defers_checkpoint = false;
  // Applied idempotently (upsert, delete-if-exists): the full copy may already hold its effect.
  bool idempotent = false;
  // A DDL to run on the destination (rewritten to destination names, IF [NOT] EXISTS added);
  // always a barrier.
  std::string ddl_sql;
  bool ddl_is_rename = false;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_ROUTE_APPLY_TASK_H_
