// Loop prevention for active-active projects: what a link's applier tags its writes with, and
// which transactions its reader must drop because the opposite link applied them.
//   SESSION_ORIGIN: the applier's sessions run with server_id (and MariaDB gtid_domain_id) set to
//     the link's reserved origin; every event they cause — DML and DDL alike, however a large
//     transaction is split — carries it, and the opposite reader drops that origin.
//   MARKER_TABLE: every applied transaction holds its row in duosync.applied naming the link (the
//     exactly-once record doubles as the marker, and the watermark keeps that table small); the
//     opposite reader drops transactions holding such a row.
#ifndef DUOSYNC_SRC_ROUTE_LOOP_PREVENTION_H_
#define DUOSYNC_SRC_ROUTE_LOOP_PREVENTION_H_

#include <cstdint>
#include <string>

#include "duosync/config.pb.h"
#include "base/link_direction.h"
#include "base/transaction.h"

namespace duosync {

struct LoopGuard {
  uint32_t own_origin = 0;          // session origin of this link's applier; 0 = untagged
  uint32_t drop_origin = 0;         // the reader drops transactions of this origin; 0 = none
  std::string drop_marker_link_id;  // the reader drops transactions marked by this link
};

// Reserved origins of the forward and reverse appliers (explicit, or derived from the name).
std::pair<uint32_t, uint32_t> OriginIds(const config::Project& project);

// The guard of one link; empty for a DATA_MIGRATION project.
LoopGuard LoopGuardFor(const config::Project& project, LinkDirection direction);

// The id a link records in duosync.checkpoint / duosync.applied: "<project>/<forward|reverse>".
std::string LinkId(const config::Project& project, LinkDirection direction);

// True when `txn` was applied by the opposite link, as the guard tells.
bool IsEcho(const Transaction& txn, const LoopGuard& guard);

}  // namespace duosync

#endif  // DUOSYNC_SRC_ROUTE_LOOP_PREVENTION_H_
