// LinkSession: one connected run of a link, from the destination's checkpoint on — the schema and
// full migration stages when the link has not finished them, then the incremental stage: source
// transactions (from the binlog, or from the record store the pump fills) through the planner
// into the parallel applier. It resumes from the checkpoint, so whatever happened to the previous
// session (even a commit whose reply was lost), nothing is applied twice.
#ifndef DUOSYNC_SRC_LINK_LINK_SESSION_H_
#define DUOSYNC_SRC_LINK_LINK_SESSION_H_

#include <atomic>
#include <optional>

#include "absl/status/status.h"
#include "apply/conflict_resolver.h"
#include "apply/parallel_applier.h"
#include "config/resolved_config.h"
#include "link/link_state.h"
#include "link/link_store.h"
#include "route/planner.h"
#include "source/transaction_feed.h"

namespace duosync {

class LinkSession {
 public:
  // `store`: the link's record store while its pump runs, else null (read the binlog directly).
  // `resolver`: active-active links only, else null. All outlive the session.
  // `epoch`: this process's ownership of the link (fence.h), fencing every write.
  LinkSession(const LinkConfig& link, uint64_t epoch, LinkState* state, LinkStore* store,
              ConflictResolver* resolver, const std::atomic<bool>* stop)
      : link_(link), epoch_(epoch), state_(state), store_(store), resolver_(resolver), stop_(stop) {}

  // Runs until `stop` is set (OK) or an error ends the session.
  absl::Status Run();

  // Whether the session applied something (the next retry may start with a short backoff).
  bool made_progress() const { return made_progress_; }
  // A corrupt record the session met in the store (cut the store there and read the source again).
  const std::optional<RecordLocation>& corrupt_at() const { return corrupt_at_; }

 private:
  absl::Status Follow(TransactionFeed* feed, ParallelApplier* applier, Planner* planner);
  // A transaction that arrives in parts (`first` the first of them): applied part by part, or
  // passed over whole when it is an echo or was applied before.
  absl::Status FollowParts(TransactionFeed* feed, ParallelApplier* applier, Planner* planner, PlannedTask first);
  ApplierOptions ApplierOptionsFor() const;
  // The feed of a link whose source is a directory of binlog files.
  absl::StatusOr<std::unique_ptr<TransactionFeed>> OpenBinlogDirectory(const GtidPosition& start,
                                                                       const Router* router) const;

  const LinkConfig& link_;
  const uint64_t epoch_;
  LinkState* state_;
  LinkStore* store_;
  ConflictResolver* resolver_;
  const std::atomic<bool>* stop_;
  bool made_progress_ = false;
  size_t refused_noted_ = 0;  // tables refused for their names, as last told to the state
  std::optional<RecordLocation> corrupt_at_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_LINK_LINK_SESSION_H_
