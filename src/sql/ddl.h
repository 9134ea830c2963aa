// DDL sync: which DDL statements a link applies on its destination, and how they are rewritten
// (destination names, and IF [NOT] EXISTS so that applying one again after a crash is harmless and
// an index that already exists on the destination is skipped, not fatal).
//
// Supported: ALTER TABLE ... ADD [COLUMN] | MODIFY [COLUMN] (same type, longer only) |
// ALTER [COLUMN] c SET DEFAULT / DROP DEFAULT | DROP [COLUMN] | ADD INDEX/KEY/UNIQUE |
// DROP INDEX/KEY | RENAME [TO]; CREATE TABLE (not ... LIKE / ... SELECT); DROP TABLE;
// TRUNCATE [TABLE]; CREATE [UNIQUE] INDEX ... ON; DROP INDEX ... ON; RENAME TABLE a TO b.
// Anything else that names a synced table is refused with the reason.
#ifndef DUOSYNC_SRC_SQL_DDL_H_
#define DUOSYNC_SRC_SQL_DDL_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/table_ref.h"
#include "base/transaction.h"

namespace duosync {

struct ParsedDdl {
  bool is_table_ddl = false;      // names tables (else: CREATE DATABASE, GRANT, ... — ignored)
  std::vector<TableRef> tables;   // tables the statement names (RENAME: old, new)
  std::vector<TableRef> source_tables;  // tables it only reads (CREATE TABLE t LIKE s: s)
  bool supported = false;
  std::string reason;             // why not, when unsupported
  // Each MODIFY: (table, column, new type text) — the caller checks it only extends a length.
  struct Modify {
    TableRef table;
    std::string column, type;
  };
  std::vector<Modify> modifies;
  bool is_rename = false;
  // Builds the destination statement; `rename` maps a source table to its destination name.
  std::function<std::string(const std::function<TableRef(const TableRef&)>& rename)> rewrite;
  // The statement as written with only its table names replaced, for any table DDL, supported or
  // not (the schema history replays every DDL of a table to follow its shape).
  std::function<std::string(const std::function<TableRef(const TableRef&)>& rename)> rename_tables;
};

// The parts of the writing session's sql_mode that change how a statement reads.
struct DdlSqlMode {
  bool ansi_quotes = false;           // "x" is an identifier, not a string
  bool no_backslash_escapes = false;  // '\' is a plain character in strings
};

// The mode of a session whose sql_mode bits (as the binlog logs them) are `sql_mode`.
DdlSqlMode DdlSqlModeOf(uint64_t sql_mode);

// Parses `sql` run with default database `schema` under `mode`. A table DDL written under a mode
// other than the default is unsupported: the destination's sessions would read its text otherwise.
ParsedDdl ParseDdl(absl::string_view sql, absl::string_view schema, DdlSqlMode mode = {});

// Every name qualified in `sql` (the `a` of each `a.b`, `a`.`b`): the schemas a statement may
// write whatever its default database (table.column references come back too: over-reporting
// can only refuse a statement, never let one pass). Executable comments are read as the server
// reads them.
std::vector<std::string> QualifiersIn(absl::string_view sql, DdlSqlMode mode = {});

// Empty when changing a column of type `from` to `to` only extends its length (VARCHAR(10) ->
// VARCHAR(20), DECIMAL(8,2) -> DECIMAL(10,2), ...); else why it is refused.
std::string CheckLengthOnlyChange(absl::string_view from, absl::string_view to);

}  // namespace duosync

#endif  // DUOSYNC_SRC_SQL_DDL_H_
