// The stages of a forward link before incremental: schema migration and the full copy (both
// resumable), after which the link's stage row moves to "incremental" with the source position at
// the end of the copy (the incremental stage applies idempotently up to it).
#ifndef DUOSYNC_SRC_LINK_INITIAL_MIGRATION_H_
#define DUOSYNC_SRC_LINK_INITIAL_MIGRATION_H_

#include <atomic>

#include "absl/status/status.h"
#include "apply/checkpoint_tables.h"
#include "config/resolved_config.h"
#include "link/link_state.h"

namespace duosync {

// Reports the stage and the copy's progress through `state`; returns early once `stop` is set.
// Every destination write is fenced by `epoch` (fence.h).
absl::Status RunInitialMigration(const LinkConfig& link, uint64_t epoch, CheckpointTables* tables,
                                   const std::atomic<bool>* stop, LinkState* state);

}  // namespace duosync

#endif  // DUOSYNC_SRC_LINK_INITIAL_MIGRATION_H_
