// The catalog queries every stage asks a server: which tables and views there are, their keys,
// a column's type, and the server's binlog position. One home for each query.
#ifndef DUOSYNC_SRC_SQL_CATALOG_H_
#define DUOSYNC_SRC_SQL_CATALOG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/table_ref.h"
#include "sql/sql_connection.h"

namespace duosync {

// Lists the base tables of `conn`'s server, outside the system schemas.
absl::StatusOr<std::vector<TableRef>> ListTables(SqlConnection* conn);
// Lists the views of `conn`'s server, outside the system schemas.
absl::StatusOr<std::vector<TableRef>> ListViews(SqlConnection* conn);

// The keys a table can be synced by.
struct TableKeyInfo {
  TableRef table;
  bool has_primary_key = false;
  bool has_not_null_unique_key = false;
  bool has_untrusted_unique_key = false;  // function-based / hash ("long unique") keys
};

// Key facts of `tables` on `conn`'s server.
absl::StatusOr<std::vector<TableKeyInfo>> ReadKeyInfo(SqlConnection* conn,
                                                      const std::vector<TableRef>& tables);

// A foreign key: `child` references `parent` (constraint `name`).
struct ForeignKeyRef {
  TableRef child, parent;
  std::string name;
};

// The foreign keys of the server's user tables.
absl::StatusOr<std::vector<ForeignKeyRef>> ReadForeignKeys(SqlConnection* conn);

// COLUMN_TYPE of a column ("varchar(20)"), "" when the column does not exist.
absl::StatusOr<std::string> ReadColumnType(SqlConnection* conn, const TableRef& table,
                                           const std::string& column);

// True for a MariaDB server; false for the MySQL replication dialect (MySQL, OceanBase).
absl::StatusOr<bool> SpeaksMariadbReplication(SqlConnection* conn);

// The server's binlog end as a position (base/gtid_position.h) in its dialect: MariaDB's
// @@gtid_binlog_pos, MySQL's @@gtid_executed, or without GTIDs "file.NNNNNN:offset" ("" before
// any transaction).
absl::StatusOr<std::string> ReadBinlogPosition(SqlConnection* conn);

// Whether the configured start position `start` fits the source `conn` (CheckStartFitsSource:
// its dialect, its servers, not past its end). InvalidArgument for a start that does not fit or
// does not parse; the server's errors as they are.
absl::Status CheckStartPosition(SqlConnection* conn, const std::string& start);

}  // namespace duosync

#endif  // DUOSYNC_SRC_SQL_CATALOG_H_
