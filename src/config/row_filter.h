// Row filters ("where" of a table selection), evaluated on decoded row images. A small documented
// subset of SQL so that the same filter means the same thing in full migration (sent to the source
// as SQL) and in incremental migration (evaluated here):
//
//   filter := or ;  or := and {OR and} ;  and := not {AND not} ;  not := NOT not | pred
//   pred   := '(' or ')' | col cmp lit | col IS [NOT] NULL | col [NOT] IN '(' lit {',' lit} ')'
//           | col [NOT] BETWEEN lit AND lit | col [NOT] LIKE 'pattern'
//   cmp    := = | != | <> | < | <= | > | >=          lit := number | 'text' | TRUE | FALSE
//   col    := identifier | `quoted identifier`
//
// SQL's three-valued logic holds: any comparison with NULL is unknown, and a row passes only when
// the filter is true. Values compare by the column's type and collation, as the server compares
// them in the full copy's WHERE (filter_compare.h); what cannot be decided here exactly is asked
// of the server (filter_oracle.h), so a row the copy took is a row the link keeps.
#ifndef DUOSYNC_SRC_CONFIG_ROW_FILTER_H_
#define DUOSYNC_SRC_CONFIG_ROW_FILTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/table_schema.h"
#include "base/transaction.h"

namespace duosync {

class FilterOracle;  // filter_oracle.h

class RowFilter {
 public:
  struct Node;
  // InvalidArgument naming the position and what is not supported.
  static absl::StatusOr<std::unique_ptr<RowFilter>> Parse(absl::string_view text);
  ~RowFilter();

  // Column names the filter reads (as written).
  std::vector<std::string> Columns() const;

  // Checks the filter's columns against a table's column names (a config check; the filter
  // cannot evaluate rows after this). NotFound for an unknown column.
  absl::Status Bind(const std::vector<std::string>& names);

  // Binds to the table's columns (positions, types, collations, ENUM members) for Matches.
  // NotFound for an unknown column; InvalidArgument for a literal the column's type reads
  // differently from what it says (an invalid date) or a column a filter cannot test (JSON).
  // `oracle` (may be null) decides what the filter cannot alone; it must outlive the filter.
  absl::Status Bind(const std::vector<ColumnSchema>& columns, FilterOracle* oracle);

  // Whether the row passes. An error when the oracle was needed and failed (or is absent).
  // REQUIRES: Bind(columns, oracle) succeeded; `row` has the bound table's columns.
  absl::StatusOr<bool> Matches(const Row& row) const;

  const std::string& text() const { return text_; }

 private:
  RowFilter(std::string text, std::unique_ptr<Node> root);
  std::string text_;
  std::unique_ptr<Node> root_;
  FilterOracle* oracle_ = nullptr;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_CONFIG_ROW_FILTER_H_
