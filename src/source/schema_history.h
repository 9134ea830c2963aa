// SchemaHistory: a source's table definitions as of a point in its binlog, for rows whose table
// map names no columns (binlog_row_metadata MINIMAL or NO_LOG, MySQL 5.7, OceanBase's binlog
// service). Without it such rows could only be matched to today's table by position, and a link
// lagging behind an ALTER would write values into the wrong columns.
//
// The history starts with the source's definitions captured when the link starts, and follows
// every DDL the stream shows for those tables by running it on a copy of the definition in a
// scratch schema of the destination (so the server itself decides what the DDL does). Each new
// definition is stored on the destination (duosync.schema_history) under the GTID of its DDL, so
// a reader that restarts at position P uses the definitions of the DDLs P covers.
//
// Definitions are stored as a normalized CREATE TABLE (columns with type, charset, collation and
// nullability; unique keys; table collation): all that decoding and keys need, and nothing a
// server of another flavour would refuse.
#ifndef DUOSYNC_SRC_SOURCE_SCHEMA_HISTORY_H_
#define DUOSYNC_SRC_SOURCE_SCHEMA_HISTORY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/gtid_position.h"
#include "base/table_ref.h"
#include "base/table_schema.h"
#include "sql/sql_connection.h"

namespace duosync {

struct SchemaHistoryOptions {
  ConnectOptions destination;  // keeps the history and runs the scratch DDL
  std::string link_id;
};

class SchemaHistory {
 public:
  // Records the source's current definitions of the tables `wants` selects as the start of the
  // link's history. Does nothing when the source logs column names (binlog_row_metadata=FULL):
  // then rows decode by name and no history is kept.
  static absl::Status Capture(const ConnectOptions& source, const SchemaHistoryOptions& options,
                              const std::function<bool(const TableRef&)>& wants);

  // The history as of `at`. Null when the link keeps none (the source logs names).
  static absl::StatusOr<std::unique_ptr<SchemaHistory>> Open(const SchemaHistoryOptions& options,
                                                             const GtidPosition& at);

  // The definition of `table` at the current position (its columns, their types as the binlog
  // writes them, its unique keys). NotFound when the history does not know the table;
  // FailedPrecondition when a DDL of it could not be followed (the message says which and why).
  absl::StatusOr<std::shared_ptr<const TableSchema>> Find(const TableRef& table);

  // Follows the DDL `sql` (default database `schema`) at `gtid`: every table it names that the
  // history knows or `wants` selects gets its new definition (or none, when dropped). A DDL the
  // scratch copy refuses makes its tables unknown from here on; only an unreachable destination
  // is an error (Unavailable).
  absl::Status FollowDdl(const Gtid& gtid, absl::string_view schema, absl::string_view sql,
                         const std::function<bool(const TableRef&)>& wants);

 private:
  struct Definition {
    std::string create_sql;  // normalized CREATE TABLE; empty: the table does not exist
    std::string error;       // why the history lost track of the table (then create_sql is empty)
    std::shared_ptr<const TableSchema> schema;  // create_sql read back, built on first use
  };

  SchemaHistory(std::unique_ptr<SqlConnection> conn, std::string link_id);
  absl::Status Store(const Gtid& gtid, const TableRef& table, const Definition& d);

  std::unique_ptr<SqlConnection> conn_;
  std::string link_id_;
  std::map<std::string, Definition> tables_;  // by lower-cased source name
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_SOURCE_SCHEMA_HISTORY_H_
