#include "route/planner.h"

#include "absl/strings/str_cat.h"
#include "base/statement_redaction.h"
#include "config/filter_oracle.h"
#include "config/object_selector.h"
#include "glog/logging.h"
#include "sql/ddl.h"
#include "route/loop_prevention.h"
#include "sql/catalog.h"

namespace duosync {

Planner::Planner(const LinkConfig& link, std::function<bool(const Gtid&)> applied_before,
                 GtidPosition copy_end)
    : link_(link),
      // Row-filter comparisons the filter cannot decide alone go to the server the full copy's
      // WHERE ran on: the source, or for a source of binlog files the destination.
      router_(link.link, link.objects, link.case_insensitive,
              std::make_unique<ServerFilterOracle>(link.source_binlog_dir.empty() ? link.source
                                                                                   : link.destination)),
      applied_before_(std::move(applied_before)),
      copy_end_(std::move(copy_end)) {}

absl::StatusOr<PlannedTask> Planner::Plan(Transaction txn, std::string position) {
  PlannedTask out;
  ApplyTask& task = out.task;
  task.txn = std::move(txn);
  task.position = std::move(position);
  task.defers_checkpoint = task.txn.only_bookkeeping;
  if (IsEcho(task.txn, link_.guard)) {
    out.echo = true;  // applied by the opposite link: passing it on would loop it back
  } else if (!applied_before_(task.txn.gtid)) {
    auto routed = router_.RouteTransaction(task.txn);
    if (!routed.ok()) return routed.status();
    task.changes = std::move(*routed);
    task.barrier = IsBarrier(task.txn, task.changes);
    if (!task.txn.ddl.empty()) {
      absl::Status refused = PrepareDdl(&task);
      if (!refused.ok()) return refused;
    }
    // Up to where the full copy ended, the copy may already hold the change.
    task.idempotent = copy_end_.Covers(task.txn.gtid);
  }
  if (!task.txn.statement.empty() &&
      (!task.changes.empty() || task.txn.ddl_schema.empty() ||
       router_.MayHoldSchema(task.txn.ddl_schema) || NamesSyncedSchema(task.txn))) {
    return absl::FailedPreconditionError(absl::StrCat(
        "transaction ", task.txn.gtid.ToString(), " was logged as a statement (",
        RedactStatementSecrets(task.txn.statement.substr(0, 200)), ") in a synced schema; duosync needs "
        "binlog_format=ROW on the source: set it, then "
        "restart the link with start_gtid after this transaction"));
  }
  return out;
}

// Whether a statement names a schema that may hold a synced table (`INSERT INTO shop.t` run
// from another default database writes shop.t all the same).
bool Planner::NamesSyncedSchema(const Transaction& txn) const {
  const DdlSqlMode mode = DdlSqlModeOf(txn.sql_mode);
  for (const std::string& schema : QualifiersIn(txn.statement, mode)) {
    if (router_.MayHoldSchema(schema)) return true;
  }
  return false;
}

// Transactions that must apply alone and in order.
bool Planner::IsBarrier(const Transaction& txn, const std::vector<RoutedChange>& changes) const {
  if (!txn.ddl.empty()) return true;
  for (const RoutedChange& c : changes) {
    if (c.route->schema->has_untrusted_unique_key) return true;
    const std::string name = c.route->schema->QualifiedName();
    for (const auto& pattern : link_.link.options().serial_tables()) {
      if (WildcardMatch(pattern, name, link_.case_insensitive)) return true;
    }
  }
  return false;
}

// Decides a DDL of the source: ignored (DDL sync off, or no synced table named), refused (an
// unsupported statement on a synced table: the link stops before it), or rewritten for the
// destination and applied as a barrier.
absl::Status Planner::PrepareDdl(ApplyTask* task) {
  const Transaction& txn = task->txn;
  if (!link_.link.ddl()) return absl::OkStatus();
  const DdlSqlMode mode = DdlSqlModeOf(txn.sql_mode);
  ParsedDdl ddl = ParseDdl(txn.ddl, txn.ddl_schema, mode);
  if (!ddl.is_table_ddl) return absl::OkStatus();
  std::vector<bool> synced;
  bool any = false;
  for (const TableRef& t : ddl.tables) {
    synced.push_back(router_.Wants(t));
    any = any || synced.back();
  }
  if (!any) return absl::OkStatus();
  const std::string where =
      absl::StrCat("DDL ", txn.gtid.ToString(), " (", RedactStatementSecrets(txn.ddl.substr(0, 200)), ")");
  if (ddl.is_rename) {
    for (size_t i = 0; i + 1 < synced.size(); i += 2) {
      if (synced[i] != synced[i + 1]) {
        return absl::FailedPreconditionError(absl::StrCat(
            where, " renames between a synced and an unsynced name (", ddl.tables[i].ToString(), " -> ",
            ddl.tables[i + 1].ToString(), "); both names must be synced or neither. The link stops "
            "before it: apply it on the destination as fits, then restart the link after it"));
      }
    }
  }
  if (!ddl.supported) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, " is not supported on synced tables: ", ddl.reason, ". The link stops before it with "
        "its checkpoint just before; apply the change on the destination yourself, then restart the "
        "link with start_gtid after ", txn.gtid.ToString()));
  }
  ObjectSelector selector(link_.objects, link_.case_insensitive);
  auto rename = [&selector](const TableRef& t) {
    auto s = selector.Select(t);
    return s ? s->destination : t;
  };
  for (const auto& m : ddl.modifies) {
    auto dest = SqlConnection::Connect(link_.destination);
    if (!dest.ok()) return dest.status();
    auto type = ReadColumnType(dest->get(), rename(m.table), m.column);
    if (!type.ok()) return type.status();
    const std::string why = CheckLengthOnlyChange(*type, m.type);
    if (!why.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, " is not supported: MODIFY of ", m.column, ": ", why, ". The link stops before it; "
          "apply the change on the destination yourself, then restart the link after ", txn.gtid.ToString()));
    }
  }
  task->ddl_sql = ddl.rewrite(rename);
  task->ddl_is_rename = ddl.is_rename;
  task->barrier = true;
  LOG(INFO) << link_.id << ": applying " << task->ddl_sql;
  return absl::OkStatus();
}

}  // namespace duosync
