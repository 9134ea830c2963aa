#include "sql/catalog.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/gtid_position.h"
#include "base/system_schemas.h"

namespace duosync {
namespace {

// Objects of one TABLE_TYPE ("BASE TABLE", "VIEW") outside the system schemas.
absl::StatusOr<std::vector<TableRef>> ListOfType(SqlConnection* conn, absl::string_view type) {
  auto rows = conn->Query(absl::StrCat(
      "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE='", type,
      "' AND TABLE_SCHEMA NOT IN ", SystemSchemasSqlList(), " ORDER BY TABLE_SCHEMA, TABLE_NAME"));
  if (!rows.ok()) return rows.status();
  std::vector<TableRef> out;
  for (auto& r : *rows) out.push_back(TableRef{r[0].value_or(""), r[1].value_or("")});
  return out;
}

}  // namespace

absl::StatusOr<std::vector<TableRef>> ListTables(SqlConnection* conn) {
  return ListOfType(conn, "BASE TABLE");
}

absl::StatusOr<std::vector<TableRef>> ListViews(SqlConnection* conn) { return ListOfType(conn, "VIEW"); }

absl::StatusOr<std::vector<TableKeyInfo>> ReadKeyInfo(SqlConnection* conn,
                                                      const std::vector<TableRef>& tables) {
  // One query for all unique indexes of the server; the join to COLUMNS tells NOT NULL.
  auto rows = conn->Query(absl::StrCat(
      "SELECT s.TABLE_SCHEMA, s.TABLE_NAME, s.INDEX_NAME, s.INDEX_TYPE, "
      "SUM(c.IS_NULLABLE='YES') FROM information_schema.STATISTICS s "
      "JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA=s.TABLE_SCHEMA AND "
      "c.TABLE_NAME=s.TABLE_NAME AND c.COLUMN_NAME=s.COLUMN_NAME "
      "WHERE s.NON_UNIQUE=0 AND s.TABLE_SCHEMA NOT IN ", SystemSchemasSqlList(),
      " GROUP BY s.TABLE_SCHEMA, s.TABLE_NAME, s.INDEX_NAME, s.INDEX_TYPE"));
  if (!rows.ok()) return rows.status();
  std::map<std::string, TableKeyInfo> by_name;
  for (const TableRef& t : tables) by_name[t.ToString()] = TableKeyInfo{t};
  for (auto& r : *rows) {
    auto it = by_name.find(absl::StrCat(r[0].value_or(""), ".", r[1].value_or("")));
    if (it == by_name.end()) continue;
    const std::string index = r[2].value_or(""), type = r[3].value_or("");
    int nullable = 0;
    (void)absl::SimpleAtoi(r[4].value_or("0"), &nullable);
    if (absl::EqualsIgnoreCase(type, "HASH")) {
      it->second.has_untrusted_unique_key = true;  // MariaDB "long unique": a hash, not the value
      continue;
    }
    if (index == "PRIMARY") it->second.has_primary_key = true;
    else if (nullable == 0) it->second.has_not_null_unique_key = true;
  }
  std::vector<TableKeyInfo> out;
  for (const TableRef& t : tables) out.push_back(by_name[t.ToString()]);
  return out;
}

absl::StatusOr<std::vector<ForeignKeyRef>> ReadForeignKeys(SqlConnection* conn) {
  auto rows = conn->Query(absl::StrCat(
      "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME, CONSTRAINT_NAME "
      "FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA NOT IN ", SystemSchemasSqlList()));
  if (!rows.ok()) return rows.status();
  std::vector<ForeignKeyRef> out;
  for (const auto& r : *rows) {
    out.push_back(ForeignKeyRef{TableRef{r[0].value_or(""), r[1].value_or("")},
                                TableRef{r[2].value_or(""), r[3].value_or("")}, r[4].value_or("")});
  }
  return out;
}

absl::StatusOr<std::string> ReadColumnType(SqlConnection* conn, const TableRef& table,
                                           const std::string& column) {
  auto type = conn->QueryValue(absl::StrCat(
      "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=", conn->Quote(table.schema),
      " AND TABLE_NAME=", conn->Quote(table.table), " AND COLUMN_NAME=", conn->Quote(column)));
  if (absl::IsNotFound(type.status())) return std::string();
  if (!type.ok()) return type.status();
  return type->value_or("");
}

absl::StatusOr<bool> SpeaksMariadbReplication(SqlConnection* conn) {
  auto version = conn->QueryValue("SELECT @@version");
  if (!version.ok()) return version.status();
  return absl::StrContains(absl::AsciiStrToLower(version->value_or("")), "mariadb");
}

absl::StatusOr<std::string> ReadBinlogPosition(SqlConnection* conn) {
  auto mariadb = SpeaksMariadbReplication(conn);
  if (!mariadb.ok()) return mariadb.status();
  if (*mariadb) {
    auto end = conn->QueryValue("SELECT @@gtid_binlog_pos");
    if (!end.ok()) return end.status();
    return end->value_or("");
  }
  // MySQL and OceanBase: the executed GTID set, or without GTIDs the place the binlog ends.
  auto gtids = conn->Query("SELECT @@global.gtid_mode, @@global.gtid_executed");
  if (!gtids.ok()) return gtids.status();
  if (!gtids->empty() && absl::EqualsIgnoreCase((*gtids)[0][0].value_or(""), "ON")) {
    auto set = GtidPosition::Parse((*gtids)[0][1].value_or(""));
    if (!set.ok()) return set.status();
    return set->ToString();
  }
  auto status = conn->Query("SHOW MASTER STATUS");
  if (!status.ok()) status = conn->Query("SHOW BINARY LOG STATUS");  // its name since MySQL 8.4
  if (!status.ok()) return status.status();
  if (status->empty() || (*status)[0].size() < 2) {
    return absl::FailedPreconditionError("SHOW MASTER STATUS shows no binlog: turn log_bin on at the source");
  }
  return absl::StrCat((*status)[0][0].value_or(""), ":", (*status)[0][1].value_or(""));
}

absl::Status CheckStartPosition(SqlConnection* conn, const std::string& start) {
  auto parsed = GtidPosition::Parse(start);
  if (!parsed.ok()) return parsed.status();
  auto mariadb = SpeaksMariadbReplication(conn);
  if (!mariadb.ok()) return mariadb.status();
  auto end_text = ReadBinlogPosition(conn);
  if (!end_text.ok()) return end_text.status();
  auto end = GtidPosition::Parse(*end_text);
  if (!end.ok()) return end.status();
  return CheckStartFitsSource(*parsed, *end, *mariadb);
}

}  // namespace duosync
