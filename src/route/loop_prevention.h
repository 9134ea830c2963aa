// Loop prevention for active-active projects: what a link's applier tags its writes with, and
// which transactions its reader must drop because the opposite link applied them.
//   SESSION_ORIGIN: the applier's sessions run with server_id (and MariaDB gtid_domain_id) set to
//     the link's reserved origin; every event they cause — DML and DDL alike, however a large
//     transaction is split — carries it, and the opposite reader drops that origin.
//   MARKER_TABLE: every applied transaction holds its row in duosync.applied naming the link (the
//     exactly-once record doubles as the marker, and the watermark keeps that table small), and
//     every chunk of the full copy its row in duosync.full_progress; the opposite reader drops
//     transactions holding such a row.
#ifndef DUOSYNC_SRC_ROUTE_LOOP_PREVENTION_H_
#define DUOSYNC_SRC_ROUTE_LOOP_PREVENTION_H_

#include "base/table_ref.h"
#include "base/transaction.h"
#include "config/resolved_config.h"

namespace duosync {

// True when `txn` was applied by the opposite link, as the guard tells.
bool IsEcho(const Transaction& txn, const LoopGuard& guard);

// True when the reader must decode `table` for IsEcho: duosync.applied and duosync.full_progress,
// under MARKER_TABLE.
bool IsMarkerTable(const TableRef& table, const LoopGuard& guard);

}  // namespace duosync

#endif  // DUOSYNC_SRC_ROUTE_LOOP_PREVENTION_H_
