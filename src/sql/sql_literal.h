// SQL literals for decoded values, exact for every column type we decode.
#ifndef DUOSYNC_SRC_SQL_SQL_LITERAL_H_
#define DUOSYNC_SRC_SQL_SQL_LITERAL_H_

#include <string>

#include "absl/strings/string_view.h"
#include "base/table_schema.h"
#include "base/transaction.h"

namespace duosync {

// Appends `text` as a quoted, escaped string literal. The escaping is byte-wise and therefore safe
// for any column charset under a utf8mb4 connection without NO_BACKSLASH_ESCAPES.
void AppendQuoted(absl::string_view text, std::string* out);

// How binary data is written: kCompact as _binary'...' with only quote and backslash escaped
// (about 1% longer than the data, so a 9 MB BLOB fits a 16 MB max_allowed_packet), kHex as X'..'
// (twice as long, but printable: for reports).
enum class BinaryLiteral { kCompact, kHex };

// Appends the literal for `value` of `column`: numbers as numbers, text with its charset
// introducer (_latin1'...'), binary data as `binary` says, NULL as NULL.
void AppendLiteral(const Value& value, const ColumnSchema& column, std::string* out,
                   BinaryLiteral binary = BinaryLiteral::kCompact);

}  // namespace duosync

#endif  // DUOSYNC_SRC_SQL_SQL_LITERAL_H_
