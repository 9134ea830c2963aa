// The decision of a conflict, apart from any SQL: each link decides alone, from the incoming
// change and the destination's rows it competes with, and both links must pick the same row.
//
// Ranks. Under LAST_WRITER_WINS a row version ranks by (version column, region): a change ranks
// by the version it writes (a DELETE by the version it deleted), a destination row by its version
// and the destination's region (a conflicting row is one the destination's region wrote); a tie
// goes to the priority region. An UPDATE that finds its row gone competes with the deletion, which
// ranks as the version the UPDATE started from (what both regions held before they diverged).
// Under REGION_PRIORITY the priority region's change wins whatever the versions.
#ifndef DUOSYNC_SRC_APPLY_CONFLICT_POLICY_H_
#define DUOSYNC_SRC_APPLY_CONFLICT_POLICY_H_

#include <vector>

#include "duosync/config.pb.h"

namespace duosync {

enum class ConflictVerdict {
  kIncomingWins,     // the row ends as the incoming change made it; the rows it beat are removed
  kDestinationWins,  // the destination's rows stay; an incoming row that lost is removed
  kStop,             // STOP: nothing of the change applied, the link halts
};

// `version_order`: for each destination row (or deletion) the change competes with, how the
// change's version compares with it: -1 older, 0 equal, 1 newer (LAST_WRITER_WINS only).
// `incoming_has_priority`: the change comes from the priority region.
// OVERWRITE (kept for one-way configs written before REGION_PRIORITY) lets the change win.
ConflictVerdict DecideConflict(config::ConflictPolicy policy, bool incoming_has_priority,
                               const std::vector<int>& version_order);

// True when some table's conflicts are under STOP: the link must then apply in source order, so
// that nothing after a stopping conflict is committed.
bool MayStop(const config::ConflictSettings& settings);

}  // namespace duosync

#endif  // DUOSYNC_SRC_APPLY_CONFLICT_POLICY_H_
