#include "source/schema_loader.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace duosync {

int TableSchema::ColumnIndex(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (absl::EqualsIgnoreCase(columns[i].name, name)) return static_cast<int>(i);
  }
  return -1;
}

void ReadServerFilled(const std::string& extra, const std::string& comment, ColumnSchema* c) {
  c->generated = IsGeneratedExtra(extra) || comment == kGeneratedColumnComment;
  c->on_update = IsOnUpdateExtra(extra) || comment == kOnUpdateColumnComment;
}

bool IsOnUpdateExtra(const std::string& extra) {
  return absl::StrContains(absl::AsciiStrToLower(extra), "on update");
}

bool IsGeneratedExtra(const std::string& extra) {
  const std::string e = absl::AsciiStrToUpper(extra);
  return absl::StrContains(e, "VIRTUAL GENERATED") || absl::StrContains(e, "STORED GENERATED");
}

namespace {

// The members of "enum('a','it''s')" as information_schema.COLUMNS.COLUMN_TYPE writes them.
std::vector<std::string> ParseMembers(absl::string_view type) {
  std::vector<std::string> members;
  size_t i = type.find('(');
  if (i == absl::string_view::npos) return members;
  for (++i; i < type.size(); ++i) {
    if (type[i] != '\'') continue;
    std::string member;
    for (++i; i < type.size(); ++i) {
      if (type[i] == '\'') {
        if (i + 1 < type.size() && type[i + 1] == '\'') { member += '\''; ++i; continue; }
        break;
      }
      if (type[i] == '\\' && i + 1 < type.size()) {  // the server's escapes in COLUMN_TYPE
        const char e = type[++i];
        member += e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e == '0' ? '\0' : e == 'Z' ? '\x1a' : e;
        continue;
      }
      member += type[i];
    }
    members.push_back(std::move(member));
  }
  return members;
}

// The binlog type code a column of this COLUMN_TYPE is written with (0 when unknown), so that a
// schema from information_schema types its columns as the binlog will (row filters bind by it).
uint8_t BinlogTypeOf(absl::string_view column_type) {
  const absl::string_view name = column_type.substr(0, column_type.find_first_of("( "));
  static const std::pair<absl::string_view, uint8_t> kTypes[] = {
      {"tinyint", coltype::kTiny}, {"smallint", coltype::kShort}, {"mediumint", coltype::kInt24},
      {"int", coltype::kLong}, {"bigint", coltype::kLongLong}, {"year", coltype::kYear},
      {"bit", coltype::kBit}, {"decimal", coltype::kNewDecimal}, {"float", coltype::kFloat},
      {"double", coltype::kDouble}, {"date", coltype::kDate}, {"datetime", coltype::kDateTime2},
      {"timestamp", coltype::kTimestamp2}, {"time", coltype::kTime2}, {"enum", coltype::kEnum},
      {"set", coltype::kSet}, {"char", coltype::kString}, {"binary", coltype::kString},
      {"varchar", coltype::kVarchar}, {"varbinary", coltype::kVarchar}, {"json", coltype::kJson},
      {"tinytext", coltype::kBlob}, {"text", coltype::kBlob}, {"mediumtext", coltype::kBlob},
      {"longtext", coltype::kBlob}, {"tinyblob", coltype::kBlob}, {"blob", coltype::kBlob},
      {"mediumblob", coltype::kBlob}, {"longblob", coltype::kBlob}};
  for (const auto& [n, code] : kTypes) {
    if (name == n) return code;
  }
  // (MySQL 8 names GEOMETRYCOLLECTION "geomcollection".)
  for (absl::string_view spatial : {"geometry", "point", "linestring", "polygon", "multipoint",
                                     "multilinestring", "multipolygon", "geometrycollection", "geomcollection"}) {
    if (name == spatial) return coltype::kGeometry;
  }
  return 0;  // another type (INET6, UUID, ...): untyped
}

}  // namespace

absl::StatusOr<TableSchema> LoadTableSchema(SqlConnection* conn, const TableRef& table) {
  TableSchema schema;
  schema.schema = table.schema;
  schema.table = table.table;
  auto cols = conn->Query(absl::StrCat(
      "SELECT COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, IS_NULLABLE, COLLATION_NAME, EXTRA, COLUMN_COMMENT "
      "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=", conn->Quote(table.schema),
      " AND TABLE_NAME=", conn->Quote(table.table), " ORDER BY ORDINAL_POSITION"));
  if (!cols.ok()) return cols.status();
  if (cols->empty()) {
    return absl::NotFoundError(absl::StrCat("table ", table.ToString(), " does not exist on ",
                                            conn->options().Describe()));
  }
  std::vector<bool> nullable;
  for (const auto& r : *cols) {
    ColumnSchema c;
    c.name = r[0].value_or("");
    const std::string type = absl::AsciiStrToLower(r[1].value_or(""));
    c.is_unsigned = absl::StrContains(type, "unsigned");
    if (r[2].has_value()) c.charset = *r[2];
    if (r[4].has_value()) c.collation = *r[4];
    ReadServerFilled(r[5].value_or(""), r[6].value_or(""), &c);
    c.type = BinlogTypeOf(type);
    if (absl::StartsWith(type, "enum(") || absl::StartsWith(type, "set(")) {
      c.elements = ParseMembers(r[1].value_or(""));
    }
    nullable.push_back(r[3].value_or("") == "YES");
    schema.columns.push_back(std::move(c));
  }
  auto keys = conn->Query(absl::StrCat(
      "SELECT INDEX_NAME, COLUMN_NAME, INDEX_TYPE, SUB_PART FROM information_schema.STATISTICS "
      "WHERE NON_UNIQUE=0 AND TABLE_SCHEMA=", conn->Quote(table.schema), " AND TABLE_NAME=",
      conn->Quote(table.table), " ORDER BY INDEX_NAME='PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX"));
  if (!keys.ok()) return keys.status();
  struct Index {
    std::string name;
    std::vector<int> columns;
    bool usable = true;     // every column plain and NOT NULL (or the primary key)
    bool untrusted = false; // hash ("long unique") or prefix key: not a plain value per column
  };
  std::vector<Index> indexes;
  for (const auto& r : *keys) {
    const std::string name = r[0].value_or("");
    if (indexes.empty() || indexes.back().name != name) indexes.push_back(Index{name});
    Index& index = indexes.back();
    const int col = schema.ColumnIndex(r[1].value_or(""));
    if (col < 0 || absl::EqualsIgnoreCase(r[2].value_or(""), "HASH") || r[3].has_value()) {
      index.untrusted = true;
      index.usable = false;
      continue;
    }
    if (nullable[col] && name != "PRIMARY") index.usable = false;
    index.columns.push_back(col);
  }
  for (const Index& index : indexes) {
    if (index.usable) schema.unique_keys.push_back(index.columns);
    schema.has_untrusted_unique_key = schema.has_untrusted_unique_key || index.untrusted;
  }
  if (!schema.unique_keys.empty()) schema.key_columns = schema.unique_keys.front();
  auto fks = conn->Query(absl::StrCat(
      "SELECT CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, "
      "REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE REFERENCED_TABLE_NAME IS "
      "NOT NULL AND TABLE_SCHEMA=", conn->Quote(table.schema), " AND TABLE_NAME=", conn->Quote(table.table),
      " ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION"));
  if (!fks.ok()) return fks.status();
  std::string constraint;
  for (const auto& r : *fks) {
    if (schema.foreign_keys.empty() || r[0].value_or("") != constraint) {
      constraint = r[0].value_or("");
      schema.foreign_keys.push_back(ForeignKey{{}, r[2].value_or(""), r[3].value_or(""), {}});
    }
    ForeignKey& fk = schema.foreign_keys.back();
    fk.columns.push_back(schema.ColumnIndex(r[1].value_or("")));
    fk.parent_columns.push_back(r[4].value_or(""));
  }
  return schema;
}

}  // namespace duosync
