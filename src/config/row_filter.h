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
// the filter is true. Numbers compare as numbers; text compares byte-wise (binary collation).
#ifndef DUOSYNC_SRC_CONFIG_ROW_FILTER_H_
#define DUOSYNC_SRC_CONFIG_ROW_FILTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/transaction.h"

namespace duosync {

class RowFilter {
 public:
  struct Node;
  // InvalidArgument naming the position and what is not supported.
  static absl::StatusOr<std::unique_ptr<RowFilter>> Parse(absl::string_view text);
  ~RowFilter();

  // Column names the filter reads (as written).
  std::vector<std::string> Columns() const;

  // Binds column names to positions; `names` is the table's column list. NotFound for an unknown
  // column. Must be called before Matches.
  absl::Status Bind(const std::vector<std::string>& names);

  // True when the row passes. REQUIRES: Bind succeeded; `row` has the bound table's columns.
  bool Matches(const Row& row) const;

  const std::string& text() const { return text_; }

 private:
  RowFilter(std::string text, std::unique_ptr<Node> root);
  std::string text_;
  std::unique_ptr<Node> root_;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_CONFIG_ROW_FILTER_H_
