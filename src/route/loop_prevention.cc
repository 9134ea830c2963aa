#include "route/loop_prevention.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/system_schemas.h"
#include "base/table_schema.h"

namespace duosync {

bool IsEcho(const Transaction& txn, const LoopGuard& guard) {
  if (guard.drop_origin != 0 && txn.origin_server_id == guard.drop_origin) return true;
  if (guard.drop_marker_link_id.empty()) return false;
  for (const RowChange& c : txn.changes) {
    // A progress row may be written over an earlier one (REPLACE logs an update then).
    if (c.op == RowOp::kDelete || !IsMarkerTable(TableRef{c.table->schema, c.table->table}, guard)) continue;
    const int col = c.table->ColumnIndex("link_id");
    if (col >= 0 && c.after[col].s == guard.drop_marker_link_id) return true;
  }
  return false;
}

bool IsMarkerTable(const TableRef& table, const LoopGuard& guard) {
  return !guard.drop_marker_link_id.empty() && absl::EqualsIgnoreCase(table.schema, kMetaSchema) &&
         (absl::EqualsIgnoreCase(table.table, "applied") || absl::EqualsIgnoreCase(table.table, "full_progress"));
}

}  // namespace duosync
