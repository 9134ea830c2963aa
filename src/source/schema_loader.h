// Reads table definitions (column names, signedness, charsets, keys) from a server's
// information_schema.
#ifndef DUOSYNC_SRC_SOURCE_SCHEMA_LOADER_H_
#define DUOSYNC_SRC_SOURCE_SCHEMA_LOADER_H_

#include "absl/status/statusor.h"
#include "base/table_ref.h"
#include "base/table_schema.h"
#include "sql/sql_connection.h"

namespace duosync {

// Columns in ordinal order with names, signedness and charset, plus the table's keys. Column
// types and metadata stay zero: they come from the binlog's table map. NotFound if absent.
absl::StatusOr<TableSchema> LoadTableSchema(SqlConnection* conn, const TableRef& table);

// Sets `c`'s generated / on_update from information_schema.COLUMNS' EXTRA and COLUMN_COMMENT (the
// schema history's marker comments count as well as the server's own words).
void ReadServerFilled(const std::string& extra, const std::string& comment, ColumnSchema* c);

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_SCHEMA_LOADER_H_
