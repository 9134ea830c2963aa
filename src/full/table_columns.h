// The synced columns of a table as plain SQL reads them (text protocol), and how each value is
// written back as an exact literal. Shared by the full copy and the verification.
#ifndef DUOSYNC_SRC_FULL_TABLE_COLUMNS_H_
#define DUOSYNC_SRC_FULL_TABLE_COLUMNS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "config/object_selector.h"
#include "sql/sql_connection.h"
#include "sql/sql_literal.h"

namespace duosync {

struct CopyColumn {
  enum class Form { kNumber, kText, kBinary };
  std::string name;
  std::string select_expr;  // exact text for the value (FLOAT widened to DOUBLE, BIT as a number)
  Form form = Form::kText;
  std::string charset;
  // ENUM / SET: sorted by member number, not by text. As a key, read and compared by that
  // number (key_expr), so that paging compares in the order it sorts.
  bool ordinal = false;
  std::string key_expr;  // what a key read selects: the column, or `c`+0 for ENUM / SET
  bool nullable = true;  // on the source
  bool integer = false;  // TINYINT .. BIGINT (signed or not)
  bool bit = false;      // BIT, read as its number
};

// The chosen (or all) columns of `t`'s source table, in table order; generated columns left out
// (the destination computes them, and refuses a value for one).
absl::StatusOr<std::vector<CopyColumn>> ReadCopyColumns(SqlConnection* src, const SelectedTable& t);

// The chosen generated columns of `t` that the source computes from a column the choice leaves
// out, each as "g (from b)": the destination, without that column, could not compute them. (By
// the source's GENERATION_EXPRESSION naming the column; empty when all columns are synced or
// the server does not say.)
std::vector<std::string> GeneratedFromLeftOutColumns(SqlConnection* src, const SelectedTable& t);

// Appends `v` (a text-protocol value, nullopt = NULL) as the literal of column `c`; binary data
// as `binary` says (sql_literal.h).
void AppendValue(const std::optional<std::string>& v, const CopyColumn& c, std::string* out,
                 BinaryLiteral binary = BinaryLiteral::kCompact);

// Appends a key value read by `c.key_expr` as the literal that compares with the column in key
// order (the member number for ENUM / SET, else as AppendValue).
void AppendKeyValue(const std::optional<std::string>& v, const CopyColumn& c, std::string* out,
                    BinaryLiteral binary = BinaryLiteral::kHex);

}  // namespace duosync

#endif  // DUOSYNC_SRC_FULL_TABLE_COLUMNS_H_
