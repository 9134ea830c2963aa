// SchemaHistory: a source's table definitions as of a point in its binlog, for rows whose table
// map names no columns (binlog_row_metadata MINIMAL or NO_LOG, MySQL 5.7, OceanBase's binlog
// service). Without it such rows could only be matched to today's table by position, and a link
// lagging behind an ALTER would write values into the wrong columns.
//
// The history starts with the source's definitions captured when the link starts, and follows
// every DDL the stream shows for those tables (and for tables a DDL names beside them: gh-ost's
// `CREATE TABLE _t_gho LIKE t` ... `RENAME TABLE t TO _t_del, _t_gho TO t`) by running it on a
// copy of the definition in a scratch schema of the destination, so that the server itself decides
// what the DDL does. Each new definition is stored on the destination (duosync.schema_history)
// under the GTID of its DDL: a reader that restarts at position P uses the definitions of the DDLs
// P covers.
//
// Definitions are stored as a normalized CREATE TABLE (columns with type, charset, collation and
// nullability; indexes; table collation): all that decoding and keys need, and nothing a server of
// another flavour would refuse. A DDL the copy refuses (one about partitions or foreign keys,
// which the copy does not have) leaves the previous definition in place, marked doubtful: rows
// still decode by it while their shape (column count and types) matches it, and stop the link
// otherwise.
#ifndef DUOSYNC_SRC_SOURCE_SCHEMA_HISTORY_H_
#define DUOSYNC_SRC_SOURCE_SCHEMA_HISTORY_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/gtid_position.h"
#include "base/table_ref.h"
#include "base/table_schema.h"
#include "sql/ddl.h"
#include "sql/sql_connection.h"

namespace duosync {

struct SchemaHistoryOptions {
  ConnectOptions destination;  // keeps the history and runs the scratch DDL
  std::string link_id;
  // Set for a source of binlog files, whose start state the destination holds: the history
  // starts empty and learns a table's definition from the destination (under the name this
  // gives) the first time a DDL names it. The reader is ahead of the applier, so the destination
  // has not run that DDL yet.
  std::function<TableRef(const TableRef&)> catalog_name;
  // A MySQL-dialect source: a history kept by a version that did not follow its DDL is not used.
  bool mysql_dialect = false;
};

// Whether `source` writes column names into its binlog (binlog_row_metadata=FULL). Servers
// without the setting (MySQL 5.7, OceanBase) do not.
bool SourceLogsColumnNames(SqlConnection* source);

class SchemaHistory {
 public:
  // Starts the link's history afresh with the source's current definitions of the tables `wants`
  // selects (a link's first start, or a start at a new position). When the source logs column
  // names, only removes an old history: rows decode by name.
  static absl::Status Capture(const ConnectOptions& source, const SchemaHistoryOptions& options,
                              const std::function<bool(const TableRef&)>& wants);

  // Removes the link's history (a link of binlog files starting anew).
  static absl::Status Forget(const SchemaHistoryOptions& options);

  // The history as of `at`. Null when the link keeps none.
  static absl::StatusOr<std::unique_ptr<SchemaHistory>> Open(const SchemaHistoryOptions& options,
                                                             const GtidPosition& at);

  struct Found {
    std::shared_ptr<const TableSchema> schema;  // columns, their binlog types, unique keys
    std::string doubt;  // non-empty: a DDL since could not be followed (why); check the shape
  };
  // The definition of `table` at the current position. NotFound when the history does not know
  // the table; FailedPrecondition when it lost track of it (the message says which DDL and why).
  absl::StatusOr<Found> Find(const TableRef& table);

  // Follows the DDL `sql` (default database `schema`, read under `mode`) at `gtid`. Only an
  // unreachable or refusing destination (not the DDL itself) is an error: retry.
  absl::Status FollowDdl(const Gtid& gtid, absl::string_view schema, absl::string_view sql, DdlSqlMode mode,
                         const std::function<bool(const TableRef&)>& wants);

 private:
  struct Definition {
    std::string create_sql;  // normalized CREATE TABLE; empty: unknown, or the table is gone
    std::string error;       // why the last DDL could not be followed (create_sql: the one before)
    std::shared_ptr<const TableSchema> schema;  // create_sql read back, built on first use
  };

  SchemaHistory(std::unique_ptr<SqlConnection> conn, const SchemaHistoryOptions& options);
  absl::Status Store(const Gtid& gtid, const TableRef& table, const Definition& d);
  absl::Status PrepareScratch();  // the scratch schema and this session's settings, once
  TableRef ScratchName();
  // Runs a stored definition as a scratch table named `as`.
  absl::Status CreateScratch(const std::string& create_sql, const TableRef& as);
  // The tables of `schema` the history knows, after a DROP DATABASE.
  absl::Status ForgetSchema(const Gtid& gtid, const std::string& schema);

  std::unique_ptr<SqlConnection> conn_;
  std::string link_id_;
  std::function<TableRef(const TableRef&)> catalog_name_;  // see SchemaHistoryOptions
  std::map<std::string, Definition> tables_;  // by "schema\x01table"
  std::set<std::string> dropped_schemas_;  // by DROP DATABASE in this session (lower case)
  bool scratch_ready_ = false;
  std::string scratch_prefix_;  // unique to this link and connection
  int scratch_serial_ = 0;
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_SCHEMA_HISTORY_H_
