#include "source/schema_history.h"

#include <mysqld_error.h>

#include <unistd.h>

#include <atomic>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/names.h"
#include "base/status_macros.h"
#include "base/system_schemas.h"
#include "glog/logging.h"
#include "route/ddl.h"
#include "source/schema_loader.h"
#include "sql/destination_session.h"
#include "sql/sql_literal.h"

namespace duosync {
namespace {

std::string Key(const TableRef& t) {
  return absl::StrCat(absl::AsciiStrToLower(t.schema), "\x01", absl::AsciiStrToLower(t.table));
}

absl::Status EnsureHistoryTables(SqlConnection* conn) {
  return conn->Execute(absl::StrCat(
      "CREATE DATABASE IF NOT EXISTS ", kMetaSchema, ";"
      "CREATE DATABASE IF NOT EXISTS ", kScratchSchema, ";"
      // One row per definition: the link's start (GTID 0-0-0) or the DDL that made it. A row
      // with neither definition nor error: the table was dropped. The row without a table marks
      // that the link keeps a history at all.
      "CREATE TABLE IF NOT EXISTS ", kMetaSchema, ".schema_history ("
      "id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
      "link_id VARCHAR(191) NOT NULL, domain_id INT UNSIGNED NOT NULL,"
      "server_id INT UNSIGNED NOT NULL, seq BIGINT UNSIGNED NOT NULL,"
      "table_schema VARCHAR(64) NOT NULL, table_name VARCHAR(64) NOT NULL,"
      "create_sql LONGTEXT NULL, error TEXT NULL,"
      "UNIQUE KEY (link_id, domain_id, server_id, seq, table_schema, table_name)) ENGINE=InnoDB"));
}

// The definition of `table` on `conn` as a CREATE TABLE named `as`, with only what decoding and
// keys need. NotFound when the table does not exist.
absl::StatusOr<std::string> NormalizedCreate(SqlConnection* conn, const TableRef& table, const TableRef& as) {
  const std::string where = absl::StrCat("TABLE_SCHEMA=", conn->Quote(table.schema), " AND TABLE_NAME=",
                                         conn->Quote(table.table));
  auto cols = conn->Query(absl::StrCat(
      "SELECT COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME, IS_NULLABLE "
      "FROM information_schema.COLUMNS WHERE ", where, " ORDER BY ORDINAL_POSITION"));
  if (!cols.ok()) return cols.status();
  if (cols->empty()) return absl::NotFoundError(absl::StrCat("table ", table.ToString(), " does not exist"));
  auto keys = conn->Query(absl::StrCat(
      "SELECT INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS WHERE NON_UNIQUE=0 AND ",
      where, " ORDER BY INDEX_NAME='PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX"));
  if (!keys.ok()) return keys.status();
  auto collation = conn->QueryValue(absl::StrCat(
      "SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE ", where));
  if (!collation.ok()) return collation.status();

  std::vector<std::string> parts;
  for (const auto& c : *cols) {
    std::string def = absl::StrCat(QuoteIdent(c[0].value_or("")), " ", c[1].value_or(""));
    if (c[2].has_value()) absl::StrAppend(&def, " CHARACTER SET ", *c[2]);
    if (c[3].has_value()) absl::StrAppend(&def, " COLLATE ", *c[3]);
    absl::StrAppend(&def, c[4].value_or("") == "YES" ? " NULL" : " NOT NULL");
    parts.push_back(std::move(def));
  }
  std::string index, columns;
  auto flush = [&] {
    if (index.empty()) return;
    parts.push_back(index == "PRIMARY" ? absl::StrCat("PRIMARY KEY (", columns, ")")
                                       : absl::StrCat("UNIQUE KEY ", QuoteIdent(index), " (", columns, ")"));
  };
  for (const auto& k : *keys) {
    if (k[0].value_or("") != index) {
      flush();
      index = k[0].value_or("");
      columns.clear();
    }
    absl::StrAppend(&columns, columns.empty() ? "" : ", ", QuoteIdent(k[1].value_or("")));
    if (k[2].has_value()) absl::StrAppend(&columns, "(", *k[2], ")");
  }
  flush();
  std::string sql = absl::StrCat("CREATE TABLE ", QuoteTable(as.schema, as.table), " (\n  ",
                                 absl::StrJoin(parts, ",\n  "), "\n)");
  if (collation->has_value() && !(*collation)->empty()) absl::StrAppend(&sql, " COLLATE=", **collation);
  return sql;
}

// `sql` without its COLLATE clauses: for a destination that does not know a source's collation
// (MySQL 8's utf8mb4_0900_* on MariaDB), the charset alone still decodes the text right.
std::string WithoutCollations(absl::string_view sql) {
  std::string out;
  size_t at = 0;
  while (true) {
    const size_t i = sql.find(" COLLATE", at);
    if (i == absl::string_view::npos) break;
    absl::StrAppend(&out, sql.substr(at, i - at));
    size_t j = i + 8;
    if (j < sql.size() && sql[j] == '=') ++j;
    while (j < sql.size() && sql[j] == ' ') ++j;
    while (j < sql.size() && (absl::ascii_isalnum(sql[j]) || sql[j] == '_')) ++j;
    at = j;
  }
  absl::StrAppend(&out, sql.substr(at));
  return out;
}

// A table name in the scratch schema no other history (of this process or another) uses now.
TableRef ScratchName() {
  static std::atomic<uint64_t> serial{0};
  return TableRef{kScratchSchema, absl::StrCat("h", getpid(), "_", ++serial)};
}

bool IsConnectionError(const absl::Status& s) { return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s); }

}  // namespace

SchemaHistory::SchemaHistory(std::unique_ptr<SqlConnection> conn, std::string link_id)
    : conn_(std::move(conn)), link_id_(std::move(link_id)) {}

absl::Status SchemaHistory::Capture(const ConnectOptions& source, const SchemaHistoryOptions& options,
                                    const std::function<bool(const TableRef&)>& wants) {
  auto src = SqlConnection::Connect(source);
  if (!src.ok()) return src.status();
  // MariaDB 10.5+ and MySQL 8 say; older servers and OceanBase lack the setting (and the names).
  auto metadata = (*src)->QueryValue("SELECT @@global.binlog_row_metadata");
  if (metadata.ok() && metadata->has_value() && absl::EqualsIgnoreCase(**metadata, "FULL")) {
    return absl::OkStatus();
  }
  auto dst = ConnectDestination(options.destination);
  if (!dst.ok()) return dst.status();
  DUO_RETURN_IF_ERROR(EnsureHistoryTables(dst->get()));
  std::string quoted_link;
  AppendQuoted(options.link_id, &quoted_link);
  auto kept = (*dst)->QueryValue(absl::StrCat("SELECT COUNT(*) FROM ", kMetaSchema,
                                              ".schema_history WHERE link_id=", quoted_link));
  if (!kept.ok()) return kept.status();
  if (kept->value_or("0") != "0") return absl::OkStatus();  // a start recorded before

  auto tables = (*src)->Query(
      "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE='BASE TABLE'");
  if (!tables.ok()) return tables.status();
  std::string sql = absl::StrCat(
      "INSERT IGNORE INTO ", kMetaSchema, ".schema_history (link_id, domain_id, server_id, seq, "
      "table_schema, table_name, create_sql) VALUES (", quoted_link, ",0,0,0,'','',NULL)");
  size_t captured = 0;
  for (const auto& row : *tables) {
    const TableRef t{row[0].value_or(""), row[1].value_or("")};
    if (IsSystemSchema(t.schema) || !wants(t)) continue;
    auto create = NormalizedCreate(src->get(), t, t);
    if (absl::IsNotFound(create.status())) continue;  // dropped meanwhile
    if (!create.ok()) return create.status();
    absl::StrAppend(&sql, ",(", quoted_link, ",0,0,0,", (*dst)->Quote(t.schema), ",", (*dst)->Quote(t.table),
                    ",", (*dst)->Quote(*create), ")");
    ++captured;
  }
  DUO_RETURN_IF_ERROR((*dst)->Execute(sql));
  LOG(INFO) << options.link_id << ": the source logs no column names; schema history started with "
            << captured << " table definitions";
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SchemaHistory>> SchemaHistory::Open(const SchemaHistoryOptions& options,
                                                                   const GtidPosition& at) {
  auto conn = ConnectDestination(options.destination);
  if (!conn.ok()) return conn.status();
  DUO_RETURN_IF_ERROR(EnsureHistoryTables(conn->get()));
  std::string quoted_link;
  AppendQuoted(options.link_id, &quoted_link);
  auto rows = (*conn)->Query(absl::StrCat(
      "SELECT domain_id, server_id, seq, table_schema, table_name, create_sql, error FROM ", kMetaSchema,
      ".schema_history WHERE link_id=", quoted_link, " ORDER BY id"));
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::unique_ptr<SchemaHistory>();
  std::unique_ptr<SchemaHistory> history(new SchemaHistory(std::move(*conn), options.link_id));
  for (const auto& r : *rows) {
    Gtid g;
    if (!absl::SimpleAtoi(r[0].value_or(""), &g.domain) || !absl::SimpleAtoi(r[1].value_or(""), &g.server_id) ||
        !absl::SimpleAtoi(r[2].value_or(""), &g.sequence)) {
      return absl::DataLossError("unreadable row in duosync.schema_history");
    }
    const TableRef t{r[3].value_or(""), r[4].value_or("")};
    if (t.table.empty()) continue;  // the marker
    const bool start = g.server_id == 0 && g.sequence == 0;
    if (!start && !at.Covers(g)) continue;  // a DDL after `at`: the stream shows it again
    Definition d;
    d.create_sql = r[5].value_or("");
    d.error = r[6].value_or("");
    history->tables_[Key(t)] = std::move(d);
  }
  // The scratch copies resolve names a DDL leaves unqualified (REFERENCES t) in the scratch schema.
  DUO_RETURN_IF_ERROR(history->conn_->Execute(absl::StrCat("USE ", kScratchSchema)));
  return history;
}

absl::StatusOr<std::shared_ptr<const TableSchema>> SchemaHistory::Find(const TableRef& table) {
  auto it = tables_.find(Key(table));
  if (it == tables_.end() || (it->second.create_sql.empty() && it->second.error.empty())) {
    return absl::NotFoundError(absl::StrCat("the schema history does not know ", table.ToString()));
  }
  Definition& d = it->second;
  if (!d.error.empty()) return absl::FailedPreconditionError(d.error);
  if (d.schema != nullptr) return d.schema;
  // Read back through a scratch copy: the server types its columns as the binlog will.
  const TableRef scratch = ScratchName();
  ParsedDdl parsed = ParseDdl(d.create_sql, kScratchSchema);
  if (!parsed.rename_tables) return absl::DataLossError(absl::StrCat("unreadable definition of ", table.ToString(),
                                                                   " in duosync.schema_history"));
  const std::string create = parsed.rename_tables([&](const TableRef&) { return scratch; });
  absl::Status made = conn_->Execute(create);
  if (!made.ok() && conn_->last_errno() == ER_UNKNOWN_COLLATION) made = conn_->Execute(WithoutCollations(create));
  if (!made.ok()) return made;
  auto loaded = LoadTableSchema(conn_.get(), scratch);
  (void)conn_->Execute(absl::StrCat("DROP TABLE IF EXISTS ", QuoteTable(scratch.schema, scratch.table)));
  if (!loaded.ok()) return loaded.status();
  loaded->schema = table.schema;
  loaded->table = table.table;
  d.schema = std::make_shared<const TableSchema>(*std::move(loaded));
  return d.schema;
}

absl::Status SchemaHistory::FollowDdl(const Gtid& gtid, absl::string_view schema, absl::string_view sql,
                                      const std::function<bool(const TableRef&)>& wants) {
  if (absl::StartsWithIgnoreCase(absl::StripLeadingAsciiWhitespace(sql), "TRUNCATE")) return absl::OkStatus();
  ParsedDdl parsed = ParseDdl(sql, schema);
  if (!parsed.is_table_ddl || !parsed.rename_tables) return absl::OkStatus();
  // The tables it concerns, each with a scratch name.
  std::vector<TableRef> concerned;
  std::map<std::string, TableRef> scratch;
  for (const TableRef& t : parsed.tables) {
    if (scratch.count(Key(t)) != 0) continue;
    scratch[Key(t)] = ScratchName();
    if (tables_.count(Key(t)) != 0 || wants(t)) concerned.push_back(t);
  }
  if (concerned.empty()) return absl::OkStatus();

  // Copies of the definitions before the DDL, the DDL on them, the definitions after.
  absl::Status replayed = absl::OkStatus();
  for (const TableRef& t : concerned) {
    auto it = tables_.find(Key(t));
    if (it == tables_.end() || it->second.create_sql.empty()) continue;  // unknown, or created now
    ParsedDdl create = ParseDdl(it->second.create_sql, kScratchSchema);
    if (!create.rename_tables) continue;
    const std::string text = create.rename_tables([&](const TableRef&) { return scratch[Key(t)]; });
    replayed = conn_->Execute(text);
    if (!replayed.ok() && conn_->last_errno() == ER_UNKNOWN_COLLATION) replayed = conn_->Execute(WithoutCollations(text));
    if (!replayed.ok()) break;
  }
  if (replayed.ok()) {
    replayed = conn_->Execute(parsed.rename_tables([&](const TableRef& t) {
      auto s = scratch.find(Key(t));
      return s != scratch.end() ? s->second : t;
    }));
  }
  if (!replayed.ok() && IsConnectionError(replayed)) return replayed;
  std::vector<std::pair<TableRef, Definition>> after;
  absl::Status read_back = absl::OkStatus();
  for (const TableRef& t : concerned) {
    Definition d;
    auto before = tables_.find(Key(t));
    if (replayed.ok()) {
      auto now = NormalizedCreate(conn_.get(), scratch[Key(t)], t);
      if (!now.ok() && !absl::IsNotFound(now.status())) {
        read_back = now.status();
        break;
      }
      if (now.ok()) d.create_sql = *std::move(now);  // else: dropped (or renamed away)
    } else {
      d.error = before != tables_.end() && !before->second.error.empty()
                    ? before->second.error
                    : absl::StrCat("the schema history could not follow the DDL of transaction ", gtid.ToString(),
                                   " on ", t.ToString(), " (", replayed.message(), "), so its rows cannot "
                                   "be matched to columns by position; set binlog_row_metadata=FULL on the "
                                   "source and re-initialize the link");
    }
    if (before != tables_.end() && before->second.create_sql == d.create_sql && before->second.error == d.error) {
      continue;  // unchanged (an index, a default, a table option)
    }
    after.emplace_back(t, std::move(d));
  }
  std::vector<std::string> drops;
  for (const auto& [key, s] : scratch) drops.push_back(QuoteTable(s.schema, s.table));
  (void)conn_->Execute(absl::StrCat("DROP TABLE IF EXISTS ", absl::StrJoin(drops, ", ")));
  if (!read_back.ok()) return read_back;
  for (auto& [t, d] : after) {
    if (!d.error.empty()) LOG(WARNING) << link_id_ << ": " << d.error;
    DUO_RETURN_IF_ERROR(Store(gtid, t, d));
    tables_[Key(t)] = std::move(d);
  }
  return absl::OkStatus();
}

absl::Status SchemaHistory::Store(const Gtid& gtid, const TableRef& table, const Definition& d) {
  std::string sql = absl::StrCat(
      "INSERT IGNORE INTO ", kMetaSchema, ".schema_history (link_id, domain_id, server_id, seq, "
      "table_schema, table_name, create_sql, error) VALUES (");
  AppendQuoted(link_id_, &sql);
  absl::StrAppend(&sql, ",", gtid.domain, ",", gtid.server_id, ",", gtid.sequence, ",", conn_->Quote(table.schema),
                  ",", conn_->Quote(table.table), ",",
                  d.create_sql.empty() ? "NULL" : conn_->Quote(d.create_sql), ",",
                  d.error.empty() ? "NULL" : conn_->Quote(d.error), ")");
  return conn_->Execute(sql);
}

}  // namespace duosync
