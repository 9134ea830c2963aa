// What the pipeline knows about a source table: its columns as the binlog encodes them, named, and
// the keys that identify a row.
#ifndef DUOSYNC_SRC_BASE_TABLE_SCHEMA_H_
#define DUOSYNC_SRC_BASE_TABLE_SCHEMA_H_

#include <cstdint>
#include <string>
#include <vector>

namespace duosync {

// Column type codes of the binlog (MySQL's enum_field_types).
namespace coltype {
enum : uint8_t {
  kDecimalOld = 0, kTiny = 1, kShort = 2, kLong = 3, kFloat = 4, kDouble = 5, kNull = 6,
  kTimestamp = 7, kLongLong = 8, kInt24 = 9, kDate = 10, kTime = 11, kDateTime = 12, kYear = 13,
  kNewDate = 14, kVarchar = 15, kBit = 16, kTimestamp2 = 17, kDateTime2 = 18, kTime2 = 19,
  kJson = 245, kNewDecimal = 246, kEnum = 247, kSet = 248, kTinyBlob = 249, kMediumBlob = 250,
  kLongBlob = 251, kBlob = 252, kVarString = 253, kString = 254, kGeometry = 255,
};
}  // namespace coltype

struct ColumnSchema {
  std::string name;
  uint8_t type = 0;     // binlog type code (for STRING columns holding ENUM/SET: kEnum / kSet)
  uint16_t meta = 0;    // binlog type metadata
  bool is_unsigned = false;
  std::string charset;  // character set of text columns; empty for binary and non-text columns
  std::string collation;  // collation of text columns (decides which key values are equal)
  std::vector<std::string> elements;  // ENUM / SET member names, when the binlog said (for showing)
  // A generated column (stored or virtual): the destination computes it, nothing writes it.
  bool generated = false;
  // ON UPDATE CURRENT_TIMESTAMP: an UPDATE sets it whenever it does not set it itself, so the
  // link always sets it (to the source's value, even when that did not change: within one second
  // it does not, and the destination's clock would put its own time there).
  bool on_update = false;
};

// Whether information_schema.COLUMNS.EXTRA names a generated column ("VIRTUAL GENERATED",
// "STORED GENERATED"; not MySQL 8's "DEFAULT_GENERATED", a default expression).
bool IsGeneratedExtra(const std::string& extra);
// Whether EXTRA names ON UPDATE CURRENT_TIMESTAMP (MariaDB "on update current_timestamp()",
// MySQL "DEFAULT_GENERATED on update CURRENT_TIMESTAMP").
bool IsOnUpdateExtra(const std::string& extra);
// The column comments that mark a generated column and an ON UPDATE one in the schema history's
// normalized CREATE TABLEs (schema_history.cc), which keep columns plain: a generation expression
// of another dialect need not parse where the history replays them.
inline constexpr char kGeneratedColumnComment[] = "duosync:generated";
inline constexpr char kOnUpdateColumnComment[] = "duosync:on-update";

// A foreign key of the table: its columns reference `parent_columns` (by name) of another table.
struct ForeignKey {
  std::vector<int> columns;  // positions in this table, in the constraint's order
  std::string parent_schema, parent_table;
  std::vector<std::string> parent_columns;
};

struct TableSchema {
  std::string schema;
  std::string table;
  std::vector<ColumnSchema> columns;
  // Columns (positions) of the key that identifies a row: the primary key, else the first unique
  // key whose columns are all NOT NULL. Empty: the table cannot be synced.
  std::vector<int> key_columns;
  // Every trusted unique key (primary and NOT NULL unique), as column positions.
  std::vector<std::vector<int>> unique_keys;
  bool has_untrusted_unique_key = false;  // function-based / hash keys
  std::vector<ForeignKey> foreign_keys;   // whose columns the binlog rows all carry

  int ColumnIndex(const std::string& name) const;  // -1 when absent (case-insensitive)
  std::string QualifiedName() const { return schema + "." + table; }
};

}  // namespace duosync

#endif  // DUOSYNC_SRC_BASE_TABLE_SCHEMA_H_
