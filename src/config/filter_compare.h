// How a row filter compares a decoded column value with a literal: as MySQL/MariaDB compare them
// in the full copy's WHERE, by the column's type, so that the copy and the incremental stage keep
// the same rows.
//   integers, YEAR, BIT   exactly against integer and decimal literals, as doubles otherwise
//   DECIMAL               exactly against integer and decimal literals, as doubles otherwise
//   FLOAT, DOUBLE         as doubles
//   DATE, DATETIME,       as points in time (the literal read as the server reads it: '2024-1-5',
//   TIMESTAMP, TIME       20240105, '2024-01-05 10:00:00.5'); TIMESTAMP in UTC, as the copy's session
//   ENUM, SET             a quoted literal against the member text, under the column's collation;
//                         a number against the index / bit mask
//   text                  under the column's collation: byte order for *_bin, case folding for
//                         *_general_ci, latin1_*_ci and *_unicode_ci; trailing spaces ignored
//                         unless the collation is NO PAD
//   binary strings        byte-wise, no padding
// What cannot be decided here exactly — non-ASCII text under a case- or accent-insensitive
// collation, charsets other than utf8/latin1/ascii — comes back kUndecided: the caller asks the
// server (filter_oracle.h). Nothing is guessed.
#ifndef DUOSYNC_SRC_CONFIG_FILTER_COMPARE_H_
#define DUOSYNC_SRC_CONFIG_FILTER_COMPARE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/table_schema.h"
#include "base/transaction.h"

namespace duosync {

struct FilterLiteral {
  enum class Kind { kInteger, kDecimal, kDouble, kString } kind = Kind::kString;
  std::string text;  // the number as written, or the string's characters (UTF-8)
};

enum class ColumnFamily {
  kUntyped,  // bound by name only: not evaluated
  kInteger, kBit, kDecimal, kFloat, kDate, kDateTime, kTime, kEnum, kSet, kText, kBinary,
};

// A literal prepared for one column (checked once, at bind).
struct BoundLiteral {
  FilterLiteral literal;
  ColumnFamily family = ColumnFamily::kUntyped;
  // Temporal families: the literal as a point in time (ordered like the values' points).
  int64_t temporal = 0;
};

// The family of `column`; InvalidArgument for a type a filter cannot test (JSON, GEOMETRY).
absl::StatusOr<ColumnFamily> FamilyOf(const ColumnSchema& column);

// Prepares `literal` for `column`; InvalidArgument, naming the column, for a literal the server
// would read differently from what it says (an invalid date, a string against a BIT column).
// `for_like`: the literal is a LIKE pattern.
absl::StatusOr<BoundLiteral> BindLiteral(const ColumnSchema& column, const FilterLiteral& literal,
                                         bool for_like);

enum class Order { kLess, kEqual, kGreater, kUnknown, kUndecided };  // kUnknown: SQL NULL

// Compares a non-NULL value of `column` with the literal.
Order CompareValue(const ColumnSchema& column, const Value& value, const BoundLiteral& literal);

enum class LikeResult { kNo, kYes, kUndecided };
LikeResult LikeValue(const ColumnSchema& column, const Value& value, const BoundLiteral& pattern);

// The text a value of `column` compares as, and that text's character set, for asking a server:
// text and binary values as stored, ENUM/SET members as UTF-8. False for other families.
bool TextForServer(const ColumnSchema& column, const Value& value, std::string* bytes,
                   std::string* charset);

// Exposed for tests.
int CompareDecimalText(absl::string_view a, absl::string_view b);
double StringToDoubleLikeServer(absl::string_view text);

}  // namespace duosync

#endif  // DUOSYNC_SRC_CONFIG_FILTER_COMPARE_H_
