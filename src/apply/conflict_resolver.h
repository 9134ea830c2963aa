// Conflicts of active-active links. A change conflicts when the destination's row at its key is
// not its before image (an UPDATE/DELETE of a row changed or removed meanwhile, an INSERT of a
// taken key), or when writing it would collide with a *different* row on a primary or NOT NULL
// unique key. The table's policy decides (conflict_policy.h); the resolution, the removal of the
// rows that lost and the conflict's record on the destination commit in one transaction.
#ifndef DUOSYNC_SRC_APPLY_CONFLICT_RESOLVER_H_
#define DUOSYNC_SRC_APPLY_CONFLICT_RESOLVER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "apply/conflict_log.h"
#include "duosync/config.pb.h"
#include "route/router.h"
#include "sql/sql_connection.h"

namespace duosync {

// Decides and applies the conflicts of one link.
class ConflictResolver {
 public:
  // `link_name`: "forward"/"reverse" for the log; `link_id` names the link in duosync.conflicts.
  // `incoming_has_priority`: this link brings the priority region's changes.
  ConflictResolver(const config::ConflictSettings& settings, std::string link_name, std::string link_id,
                   bool incoming_has_priority, ConflictLog* log);

  // Applies `change` inside the open destination transaction on `conn`, resolving a conflict by
  // policy; a conflict resolved is added to `resolved` (its row in duosync.conflicts is written in
  // the same transaction). FailedPrecondition for STOP (the conflict is logged at once, nothing of
  // the change applied).
  absl::Status Apply(SqlConnection* conn, const RoutedChange& change, std::vector<ConflictRecord>* resolved);

  // Adds the conflicts of a committed transaction to the in-memory log (status, events): only
  // once its COMMIT succeeded, so a transaction retried after a deadlock is counted once.
  void Publish(const std::vector<ConflictRecord>& resolved);
  // The same for conflicts counted by (policy, outcome) whose records were let go (one huge
  // transaction's beyond the first thousands; duosync.conflicts keeps them all).
  void PublishCounts(const std::map<std::pair<std::string, std::string>, uint64_t>& counts);

 private:
  struct TablePolicy {
    config::ConflictPolicy policy;
    std::string column;
  };
  TablePolicy PolicyFor(const Route& route) const;
  // A row change whose foreign key finds no parent row: in active-active that parent lost a
  // conflict here, and the other region's cascade removes the child there, so the change is
  // passed over and logged (STOP halts instead).
  static bool MissesReferencedRow(const absl::Status& s);
  absl::Status SkipChildOfMissingRow(SqlConnection* conn, const RoutedChange& change, const absl::Status& s,
                                     std::vector<ConflictRecord>* resolved);

  config::ConflictSettings settings_;
  std::string link_name_;
  std::string link_id_;
  bool incoming_has_priority_;
  ConflictLog* log_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_CONFLICT_RESOLVER_H_
