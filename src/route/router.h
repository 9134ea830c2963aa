// Router: decides what of a source transaction reaches the destination — object rules, renames,
// DML operation choice, row filters, column choice — and how (the destination table and columns).
//
// Row filters and UPDATE: an UPDATE whose before image passes the filter and whose after image does
// not leaves the synced set and is applied as a DELETE; the reverse enters it and is applied as an
// INSERT; when neither image passes, nothing is applied. The DML choice applies to the source
// operation (an UPDATE is synced only when UPDATE is chosen).
#ifndef DUOSYNC_SRC_ROUTE_ROUTER_H_
#define DUOSYNC_SRC_ROUTE_ROUTER_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/table_schema.h"
#include "base/transaction.h"
#include "config/object_selector.h"
#include "config/filter_oracle.h"
#include "config/row_filter.h"
#include "duosync/config.pb.h"

namespace duosync {

// How rows of one source table (one schema version) are written.
// A foreign key of a routed table whose parent table is synced too: a change of a child row must
// follow the change of its parent row (the applier orders them by these values).
struct ParentKey {
  TableRef destination;                     // the parent's destination table
  std::vector<int> columns;                 // source positions of the child's columns
  std::vector<std::string> parent_columns;  // the parent's columns they reference, by name
};

struct Route {
  std::shared_ptr<const TableSchema> schema;  // source table
  TableRef destination;
  std::vector<int> columns;      // source column positions written, in order (never generated ones)
  std::vector<int> key_columns;  // positions identifying a row (among columns, unless generated)
  std::unique_ptr<RowFilter> filter;  // null = every row
  std::vector<ParentKey> parent_keys;
};

struct RoutedChange {
  RowOp op;
  const Route* route;
  const Row* before;  // UPDATE, DELETE
  const Row* after;   // INSERT, UPDATE
  bool foreign_key_checks_off = false;  // as the source session wrote it (RowChange)
};

class Router {
 public:
  // REQUIRES: `link` validated; `objects` is the link's effective selection. `filter_oracle`
  // decides row-filter comparisons the filter cannot alone (null: such a row stops the link).
  Router(const config::Link& link, const config::ObjectSelection& objects, bool case_insensitive,
         std::unique_ptr<FilterOracle> filter_oracle = nullptr);

  // Whether rows of this table can be synced at all (cheap; decided by name only). Thread-safe.
  // A table the rules match but whose name is refused is remembered (RefusedTables).
  bool Wants(const TableRef& table) const;
  // Whether some synced table could live in `schema`.
  bool MayHoldSchema(absl::string_view schema) const { return selector_.MayHoldSchema(schema); }

  // Routes the changes of `txn`. The result points into `txn` and into routes owned by the
  // router; valid while both live. FailedPrecondition when a selected table cannot be synced
  // as configured (a chosen column or the filter's column does not exist, a filter literal its
  // column's type cannot take); the filter oracle's errors (Unavailable: retry).
  absl::StatusOr<std::vector<RoutedChange>> RouteTransaction(const Transaction& txn);

  // Selected tables filtered out because they have no primary key or NOT NULL unique key.
  std::vector<std::string> FilteredTables() const;
  // Tables the rules match that Wants left out for their names, "schema.table: why". Thread-safe.
  std::vector<std::string> RefusedTables() const;
  size_t refused_count() const { return refused_count_.load(); }

 private:
  absl::StatusOr<const Route*> RouteFor(const std::shared_ptr<const TableSchema>& schema);

  ObjectSelector selector_;
  bool insert_, update_, delete_;
  std::unique_ptr<FilterOracle> filter_oracle_;
  std::map<const TableSchema*, std::unique_ptr<Route>> routes_;  // null route = not synced
  std::vector<std::shared_ptr<const TableSchema>> keep_alive_;
  std::set<std::string> filtered_;
  mutable std::mutex refused_mu_;
  mutable std::atomic<size_t> refused_count_{0};  // refused_.size(), read without the lock
  mutable std::map<std::string, std::string> refused_;  // "schema.table" -> why
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_ROUTE_ROUTER_H_
