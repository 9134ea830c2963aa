// Which source tables a link syncs, and under which destination name, row filter and columns.
// Two exclusive ways to choose (checked by validation): specified objects (tables one by one plus a
// text import "S.T1|S.T2|") or matching rules (whitelist/blacklist patterns over "schema.table").
#ifndef DUOSYNC_SRC_CONFIG_OBJECT_SELECTOR_H_
#define DUOSYNC_SRC_CONFIG_OBJECT_SELECTOR_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/table_ref.h"
#include "duosync/config.pb.h"

namespace duosync {

// How one source table is synced.
struct SelectedTable {
  TableRef source;
  TableRef destination;
  std::string where;                 // row filter, empty = all rows
  std::vector<std::string> columns;  // empty = all columns
};

// '*' matches any run of characters, '?' exactly one.
bool WildcardMatch(absl::string_view pattern, absl::string_view text, bool case_insensitive);

// Parses the text import form "S.T1|S.T2|" (trailing '|' and blanks allowed).
absl::StatusOr<std::vector<TableRef>> ParseTableImport(absl::string_view text);

// Splits a "schema.table" pattern or name at its first dot.
absl::StatusOr<TableRef> SplitQualifiedName(absl::string_view name);

// Resolves a rename ("T" or "S.T") of `source`.
TableRef ApplyRename(const TableRef& source, absl::string_view rename);

// The objects a link syncs: its own selection, or for a reverse link without one, the forward
// link's selection mirrored (destination names become source names; row filters dropped, since
// they describe the forward source).
config::ObjectSelection EffectiveObjects(const config::Project& project, bool reverse);

class ObjectSelector {
 public:
  // REQUIRES: `objects` passed validation.
  ObjectSelector(const config::ObjectSelection& objects, bool case_insensitive);

  // How `table` is synced, or nothing when the link leaves it out. A table whose name duosync
  // refuses ('$$', Chinese characters) is left out whatever the rules say.
  std::optional<SelectedTable> Select(const TableRef& table) const;
  // Why a table the rules would select is left out for its name ("" when it is not).
  std::string RefusedName(const TableRef& table) const;

  // The tables of `tables` the link syncs, in their order.
  std::vector<SelectedTable> SelectAll(const std::vector<TableRef>& tables) const;

  // Whether some table of `schema` could be synced (rules or named tables).
  bool MayHoldSchema(absl::string_view schema) const;

  // Tables named one by one (specified objects); empty with matching rules.
  const std::vector<TableRef>& named_tables() const { return named_; }
  bool uses_rules() const { return uses_rules_; }

 private:
  std::optional<SelectedTable> SelectByRules(const TableRef& table) const;
  const config::TableSelection* FindSpec(const TableRef& table) const;

  config::ObjectSelection objects_;
  bool case_insensitive_;
  bool uses_rules_;
  std::vector<TableRef> named_;
  std::vector<config::TableSelection> specs_;  // tables + import, or rules.tables
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_CONFIG_OBJECT_SELECTOR_H_
