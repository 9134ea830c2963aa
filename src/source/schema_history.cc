#include "source/schema_history.h"

#include <mysqld_error.h>

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
#include "source/schema_loader.h"
#include "sql/destination_session.h"
#include "sql/sql_literal.h"

namespace duosync {
namespace {

std::string Key(const TableRef& t) { return absl::StrCat(t.schema, "\x01", t.table); }

constexpr const char* kHistoryTable = "schema_history";
// The marker row's `source` in histories of versions that follow MySQL-dialect DDL (earlier ones
// kept only the start definitions of such links, which later DDL may have made wrong).
constexpr const char* kFollowsEveryDialect = "ddl-followed:all-dialects";

// Removes a link's history.
std::string ForgetSql(const std::string& link_id) {
  std::string sql = absl::StrCat("DELETE FROM ", kMetaSchema, ".", kHistoryTable, " WHERE link_id=");
  AppendQuoted(link_id, &sql);
  return sql;
}

// Histories kept by versions before MySQL sources had no `source` column (MariaDB GTIDs only).
absl::Status AddSourceColumn(SqlConnection* conn) {
  const std::string has_source = absl::StrCat(
      "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='", kMetaSchema, "' AND TABLE_NAME='",
      kHistoryTable, "' AND COLUMN_NAME='source'");
  auto has = conn->QueryValue(has_source);
  if (!has.ok()) return has.status();
  if (has->value_or("0") != "0") return absl::OkStatus();
  absl::Status s = conn->Execute(absl::StrCat(
      "ALTER TABLE ", kMetaSchema, ".", kHistoryTable, " ADD COLUMN source VARBINARY(255) NOT NULL DEFAULT '' "
      "AFTER seq, DROP INDEX link_id, ADD UNIQUE KEY link_id (link_id, domain_id, server_id, seq, source, "
      "table_schema, table_name)"));
  if (s.ok()) return s;
  // Another process starting a link at the same moment may have added it first.
  has = conn->QueryValue(has_source);
  return has.ok() && has->value_or("0") != "0" ? absl::OkStatus() : s;
}

absl::Status EnsureHistoryTable(SqlConnection* conn) {
  DUO_RETURN_IF_ERROR(conn->Execute(absl::StrCat(
      "CREATE DATABASE IF NOT EXISTS ", kMetaSchema, ";"
      // One row per definition: the link's start (GTID 0-0-0) or the DDL that made it. Without a
      // definition: the table is gone, or (with an error) was never known. The row without a
      // table marks that the link keeps a history at all.
      "CREATE TABLE IF NOT EXISTS ", kMetaSchema, ".", kHistoryTable, " ("
      "id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
      "link_id VARCHAR(191) NOT NULL, domain_id INT UNSIGNED NOT NULL,"
      "server_id INT UNSIGNED NOT NULL, seq BIGINT UNSIGNED NOT NULL,"
      // Which series the DDL's id belongs to (Gtid::series): MySQL uuid, file series, '' (MariaDB).
      "source VARBINARY(255) NOT NULL DEFAULT '',"
      "table_schema VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
      "table_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
      "create_sql LONGTEXT CHARACTER SET utf8mb4 NULL, error TEXT CHARACTER SET utf8mb4 NULL,"
      "UNIQUE KEY link_id (link_id, domain_id, server_id, seq, source, table_schema, table_name)) ENGINE=InnoDB")));
  return AddSourceColumn(conn);
}

// The definition of `table` on `conn` as a CREATE TABLE named `as`, with what decoding and keys
// need: columns (type, charset, collation, nullability), indexes, the table's collation.
// NotFound when the table does not exist.
absl::StatusOr<std::string> NormalizedCreate(SqlConnection* conn, const TableRef& table, const TableRef& as) {
  const std::string where = absl::StrCat("TABLE_SCHEMA=", conn->Quote(table.schema), " AND TABLE_NAME=",
                                         conn->Quote(table.table));
  auto cols = conn->Query(absl::StrCat(
      "SELECT COLUMN_NAME, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME, IS_NULLABLE, EXTRA, COLUMN_COMMENT "
      "FROM information_schema.COLUMNS WHERE ", where, " ORDER BY ORDINAL_POSITION"));
  if (!cols.ok()) return cols.status();
  if (cols->empty()) return absl::NotFoundError(absl::StrCat("table ", table.ToString(), " does not exist"));
  auto keys = conn->Query(absl::StrCat(
      "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE FROM information_schema.STATISTICS "
      "WHERE ", where, " ORDER BY INDEX_NAME='PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX"));
  if (!keys.ok()) return keys.status();
  auto collation = conn->QueryValue(absl::StrCat("SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE ", where));
  if (!collation.ok()) return collation.status();

  std::vector<std::string> parts;
  for (const auto& c : *cols) {
    std::string def = absl::StrCat(QuoteIdent(c[0].value_or("")), " ", c[1].value_or(""));
    if (c[2].has_value()) absl::StrAppend(&def, " CHARACTER SET ", *c[2]);
    if (c[3].has_value()) absl::StrAppend(&def, " COLLATE ", *c[3]);
    absl::StrAppend(&def, c[4].value_or("") == "YES" ? " NULL" : " NOT NULL");
    ColumnSchema filled;
    ReadServerFilled(c[5].value_or(""), c[6].value_or(""), &filled);
    if (filled.generated) {
      absl::StrAppend(&def, " COMMENT '", kGeneratedColumnComment, "'");
    } else if (filled.on_update) {
      absl::StrAppend(&def, " COMMENT '", kOnUpdateColumnComment, "'");
    }
    parts.push_back(std::move(def));
  }
  std::string index, kind, columns;
  auto flush = [&] {
    if (index.empty()) return;
    parts.push_back(index == "PRIMARY" ? absl::StrCat("PRIMARY KEY (", columns, ")")
                                       : absl::StrCat(kind, " ", QuoteIdent(index), " (", columns, ")"));
  };
  for (const auto& k : *keys) {
    if (k[0].value_or("") != index) {
      flush();
      index = k[0].value_or("");
      const std::string type = absl::AsciiStrToUpper(k[4].value_or(""));
      kind = type == "FULLTEXT" ? "FULLTEXT KEY" : type == "SPATIAL" ? "SPATIAL KEY"
             : k[1].value_or("1") == "0" ? "UNIQUE KEY" : "KEY";
      columns.clear();
    }
    absl::StrAppend(&columns, columns.empty() ? "" : ", ", QuoteIdent(k[2].value_or("")));
    if (k[3].has_value()) absl::StrAppend(&columns, "(", *k[3], ")");
  }
  flush();
  std::string sql = absl::StrCat("CREATE TABLE ", QuoteTable(as.schema, as.table), " (\n  ",
                                 absl::StrJoin(parts, ",\n  "), "\n)");
  if (collation->has_value() && !(*collation)->empty()) absl::StrAppend(&sql, " COLLATE=", **collation);
  return sql;
}

// `sql` for a destination that does not know a source's collation (MySQL 8's utf8mb4_0900_* on
// MariaDB): column collations dropped (their CHARACTER SET stays, which decoding needs), the
// table's replaced by its character set.
std::string WithoutCollations(absl::string_view sql) {
  std::string out;
  size_t at = 0;
  while (true) {
    const size_t i = sql.find(" COLLATE", at);
    if (i == absl::string_view::npos) break;
    absl::StrAppend(&out, sql.substr(at, i - at));
    size_t j = i + 8;
    const bool table_option = j < sql.size() && sql[j] == '=';
    if (table_option) ++j;
    while (j < sql.size() && sql[j] == ' ') ++j;
    const size_t name = j;
    while (j < sql.size() && (absl::ascii_isalnum(sql[j]) || sql[j] == '_')) ++j;
    if (table_option) {
      const absl::string_view collation = sql.substr(name, j - name);
      absl::StrAppend(&out, " DEFAULT CHARSET=", collation.substr(0, collation.find('_')));
    }
    at = j;
  }
  absl::StrAppend(&out, sql.substr(at));
  return out;
}

// Errors of the destination rather than of the DDL replayed: retried, never recorded.
bool IsDestinationTrouble(const absl::Status& s, unsigned err) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) || absl::IsAborted(s) ||
         absl::IsPermissionDenied(s) || err == ER_OPTION_PREVENTS_STATEMENT || err == 1836 /* read-only */;
}

// "DROP DATABASE [IF EXISTS] name" (or SCHEMA): the name; empty for other statements.
std::string DroppedDatabase(absl::string_view sql) {
  std::vector<std::string> words;
  std::string word;
  for (char c : sql) {
    if (absl::ascii_isspace(c) || c == ';') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
      if (words.size() >= 5) break;
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) words.push_back(word);
  if (words.size() < 3 || !absl::EqualsIgnoreCase(words[0], "DROP") ||
      !(absl::EqualsIgnoreCase(words[1], "DATABASE") || absl::EqualsIgnoreCase(words[1], "SCHEMA"))) {
    return "";
  }
  size_t at = 2;
  if (absl::EqualsIgnoreCase(words[at], "IF") && words.size() >= 5) at = 4;
  std::string name = words[at];
  if (name.size() >= 2 && name.front() == '`' && name.back() == '`') name = name.substr(1, name.size() - 2);
  return name;
}

}  // namespace

bool SourceLogsColumnNames(SqlConnection* source) {
  auto metadata = source->QueryValue("SELECT @@global.binlog_row_metadata");
  return metadata.ok() && metadata->has_value() && absl::EqualsIgnoreCase(**metadata, "FULL");
}

SchemaHistory::SchemaHistory(std::unique_ptr<SqlConnection> conn, const SchemaHistoryOptions& options)
    : conn_(std::move(conn)), link_id_(options.link_id), catalog_name_(options.catalog_name) {}

absl::Status SchemaHistory::Forget(const SchemaHistoryOptions& options) {
  auto dst = ConnectDestination(options.destination);
  if (!dst.ok()) return dst.status();
  absl::Status s = (*dst)->Execute(ForgetSql(options.link_id));
  return s.ok() || absl::IsNotFound(s) ? absl::OkStatus() : s;  // none kept: nothing to forget
}

absl::Status SchemaHistory::Capture(const ConnectOptions& source, const SchemaHistoryOptions& options,
                                    const std::function<bool(const TableRef&)>& wants) {
  auto src = SqlConnection::Connect(source);
  if (!src.ok()) return src.status();
  if (SourceLogsColumnNames(src->get())) return Forget(options);  // rows decode by name
  auto dst = ConnectDestination(options.destination);
  if (!dst.ok()) return dst.status();
  std::string quoted_link;
  AppendQuoted(options.link_id, &quoted_link);
  DUO_RETURN_IF_ERROR(EnsureHistoryTable(dst->get()));
  auto tables = (*src)->Query(
      "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
      "WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')");
  if (!tables.ok()) return tables.status();
  // The marker, which also says that this version follows the DDL of every dialect.
  std::vector<std::string> rows = {absl::StrCat("(", quoted_link, ",0,0,0,'','',NULL,'", kFollowsEveryDialect, "')")};
  for (const auto& row : *tables) {
    const TableRef t{row[0].value_or(""), row[1].value_or("")};
    if (IsSystemSchema(t.schema) || !wants(t)) continue;
    auto create = NormalizedCreate(src->get(), t, t);
    if (absl::IsNotFound(create.status())) continue;  // dropped meanwhile
    if (!create.ok()) return create.status();
    rows.push_back(absl::StrCat("(", quoted_link, ",0,0,0,", (*dst)->Quote(t.schema), ",", (*dst)->Quote(t.table),
                                ",", (*dst)->Quote(*create), ",'')"));
  }
  // One transaction: a crash leaves the old history or the new one, never half.
  DUO_RETURN_IF_ERROR((*dst)->Execute(absl::StrCat("START TRANSACTION;", ForgetSql(options.link_id))));
  for (const std::string& r : rows) {
    absl::Status s = (*dst)->Execute(absl::StrCat(
        "INSERT INTO ", kMetaSchema, ".", kHistoryTable, " (link_id, domain_id, server_id, seq, "
        "table_schema, table_name, create_sql, source) VALUES ", r));
    if (!s.ok()) {
      (void)(*dst)->Execute("ROLLBACK");
      return s;
    }
  }
  DUO_RETURN_IF_ERROR((*dst)->Execute("COMMIT"));
  LOG(INFO) << options.link_id << ": the source logs no column names; schema history started with "
            << rows.size() - 1 << " table definitions";
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SchemaHistory>> SchemaHistory::Open(const SchemaHistoryOptions& options,
                                                                   const GtidPosition& at) {
  auto conn = ConnectDestination(options.destination);
  if (!conn.ok()) return conn.status();
  // A history that learns its tables as it goes is kept from the start.
  if (options.catalog_name) DUO_RETURN_IF_ERROR(EnsureHistoryTable(conn->get()));
  std::string quoted_link;
  AppendQuoted(options.link_id, &quoted_link);
  const std::string read = absl::StrCat(
      "SELECT domain_id, server_id, seq, table_schema, table_name, create_sql, error, source FROM ", kMetaSchema,
      ".", kHistoryTable, " WHERE link_id=", quoted_link, " ORDER BY id");
  auto rows = (*conn)->Query(read);
  if (!rows.ok() && (*conn)->last_errno() == ER_BAD_FIELD_ERROR) {  // kept by an older version
    DUO_RETURN_IF_ERROR(AddSourceColumn(conn->get()));
    rows = (*conn)->Query(read);
  }
  if (absl::IsNotFound(rows.status())) return std::unique_ptr<SchemaHistory>();  // never kept one
  if (!rows.ok()) return rows.status();
  if (rows->empty() && !options.catalog_name) return std::unique_ptr<SchemaHistory>();
  std::unique_ptr<SchemaHistory> history(new SchemaHistory(std::move(*conn), options));
  bool follows_every_dialect = false;
  // The start definitions first (one learned late has a later id than DDLs kept before it), then
  // the DDLs `at` covers in the order the stream showed them.
  for (const bool starts : {true, false}) {
    for (const auto& r : *rows) {
      Gtid g;
      if (!absl::SimpleAtoi(r[0].value_or(""), &g.domain) || !absl::SimpleAtoi(r[1].value_or(""), &g.server_id) ||
          !absl::SimpleAtoi(r[2].value_or(""), &g.sequence)) {
        return absl::DataLossError("unreadable row in duosync.schema_history");
      }
      const TableRef t{r[3].value_or(""), r[4].value_or("")};
      if (t.table.empty()) {  // the marker
        follows_every_dialect = follows_every_dialect || r[7].value_or("") == kFollowsEveryDialect;
        continue;
      }
      g.set_series(r[7].value_or(""));
      if (g.none() != starts) continue;
      if (!starts && !at.Covers(g)) continue;  // a DDL after `at`: the stream shows it again
      Definition d;
      d.create_sql = r[5].value_or("");
      d.error = r[6].value_or("");
      history->tables_[Key(t)] = std::move(d);
    }
  }
  if (options.mysql_dialect && !options.catalog_name && !follows_every_dialect) {
    LOG(WARNING) << options.link_id << ": the schema history was kept by a version that did not follow this "
                 << "MySQL-dialect source's DDL; rows without column names decode by today's definitions. "
                 << "Start the link anew at the source's end to keep one";
    return std::unique_ptr<SchemaHistory>();
  }
  return history;
}

absl::Status SchemaHistory::PrepareScratch() {
  if (scratch_ready_) return absl::OkStatus();
  // Scratch DDL concerns no one else: kept out of the destination's binlog where the user may,
  // and free of settings that would refuse a copy (a table without primary key, a wide row).
  for (const char* setting : {"sql_log_bin=0", "sql_generate_invisible_primary_key=0",
                              "sql_require_primary_key=0", "innodb_strict_mode=0", "innodb_force_primary_key=0"}) {
    (void)conn_->Execute(absl::StrCat("SET SESSION ", setting));
  }
  DUO_RETURN_IF_ERROR(conn_->Execute(absl::StrCat("CREATE DATABASE IF NOT EXISTS ", kScratchSchema)));
  // Unqualified names in a DDL (REFERENCES t) resolve in the scratch schema.
  DUO_RETURN_IF_ERROR(conn_->Execute(absl::StrCat("USE ", kScratchSchema)));
  auto id = conn_->QueryValue("SELECT CONNECTION_ID()");
  if (!id.ok()) return id.status();
  scratch_prefix_ = absl::StrCat("h", StableHash(link_id_) % 100000000, "_", id->value_or("0"), "_");
  scratch_ready_ = true;
  return absl::OkStatus();
}

TableRef SchemaHistory::ScratchName() { return TableRef{kScratchSchema, absl::StrCat(scratch_prefix_, ++scratch_serial_)}; }

absl::Status SchemaHistory::CreateScratch(const std::string& create_sql, const TableRef& as) {
  ParsedDdl parsed = ParseDdl(create_sql, kScratchSchema);
  if (!parsed.rename_tables) return absl::DataLossError("unreadable definition in duosync.schema_history");
  const std::string text = parsed.rename_tables([&](const TableRef&) { return as; });
  absl::Status made = conn_->Execute(text);
  if (!made.ok() && conn_->last_errno() == ER_UNKNOWN_COLLATION) made = conn_->Execute(WithoutCollations(text));
  return made;
}

absl::StatusOr<SchemaHistory::Found> SchemaHistory::Find(const TableRef& table) {
  auto it = tables_.find(Key(table));
  if (it == tables_.end()) {  // under another letter case (lower_case_table_names)
    for (auto i = tables_.begin(); i != tables_.end(); ++i) {
      if (absl::EqualsIgnoreCase(i->first, Key(table))) it = i;
    }
  }
  if (it == tables_.end() || (it->second.create_sql.empty() && it->second.error.empty())) {
    return absl::NotFoundError(absl::StrCat("the schema history does not know ", table.ToString()));
  }
  Definition& d = it->second;
  if (d.create_sql.empty()) return absl::FailedPreconditionError(d.error);
  if (d.schema == nullptr) {
    // Read back through a scratch copy: the server types its columns as the binlog will.
    DUO_RETURN_IF_ERROR(PrepareScratch());
    const TableRef scratch = ScratchName();
    DUO_RETURN_IF_ERROR(CreateScratch(d.create_sql, scratch));
    auto loaded = LoadTableSchema(conn_.get(), scratch);
    (void)conn_->Execute(absl::StrCat("DROP TABLE IF EXISTS ", QuoteTable(scratch.schema, scratch.table)));
    if (!loaded.ok()) return loaded.status();
    loaded->schema = table.schema;
    loaded->table = table.table;
    loaded->foreign_keys.clear();  // the copy's point nowhere; the live catalog has them
    d.schema = std::make_shared<const TableSchema>(*std::move(loaded));
  }
  return Found{d.schema, d.error};
}

absl::Status SchemaHistory::ForgetSchema(const Gtid& gtid, const std::string& schema) {
  dropped_schemas_.insert(absl::AsciiStrToLower(schema));
  for (auto& [key, d] : tables_) {
    if (!absl::EqualsIgnoreCase(key.substr(0, key.find('\x01')), schema)) continue;
    if (d.create_sql.empty() && d.error.empty()) continue;
    const TableRef t{key.substr(0, key.find('\x01')), key.substr(key.find('\x01') + 1)};
    d = Definition{};
    DUO_RETURN_IF_ERROR(Store(gtid, t, d));
  }
  return absl::OkStatus();
}

absl::Status SchemaHistory::FollowDdl(const Gtid& gtid, absl::string_view schema, absl::string_view sql,
                                      DdlSqlMode mode, const std::function<bool(const TableRef&)>& wants) {
  if (absl::StartsWithIgnoreCase(absl::StripLeadingAsciiWhitespace(sql), "TRUNCATE")) return absl::OkStatus();
  if (const std::string dropped = DroppedDatabase(sql); !dropped.empty()) return ForgetSchema(gtid, dropped);
  ParsedDdl parsed = ParseDdl(sql, schema, mode);
  if (!parsed.is_table_ddl || !parsed.rename_tables) return absl::OkStatus();
  // Every table it names, read or written, if one of them is known or selected.
  std::vector<TableRef> named = parsed.tables;
  named.insert(named.end(), parsed.source_tables.begin(), parsed.source_tables.end());
  bool concerns = false;
  for (const TableRef& t : named) concerns = concerns || tables_.count(Key(t)) != 0 || wants(t);
  if (!concerns) return absl::OkStatus();
  DUO_RETURN_IF_ERROR(PrepareScratch());

  std::map<std::string, TableRef> scratch;
  std::vector<TableRef> concerned;
  for (const TableRef& t : named) {
    if (scratch.emplace(Key(t), ScratchName()).second) concerned.push_back(t);
  }
  // A history that learns as it goes: a table first named now had the destination's definition
  // until this DDL (the start state), unless the stream dropped its database before (a table
  // there now is one the destination has not dropped yet).
  for (const TableRef& t : concerned) {
    if (!catalog_name_ || tables_.count(Key(t)) != 0 || dropped_schemas_.count(absl::AsciiStrToLower(t.schema))) {
      continue;
    }
    auto create = NormalizedCreate(conn_.get(), catalog_name_(t), t);
    if (absl::IsNotFound(create.status())) continue;
    if (!create.ok()) return create.status();
    Definition start;
    start.create_sql = *std::move(create);
    DUO_RETURN_IF_ERROR(Store(Gtid{}, t, start));
    tables_.emplace(Key(t), std::move(start));
  }
  // Copies of the definitions before the DDL, the DDL on them, the definitions after.
  absl::Status replayed = absl::OkStatus();
  for (const TableRef& t : concerned) {
    auto it = tables_.find(Key(t));
    if (it == tables_.end() || it->second.create_sql.empty()) continue;  // unknown, or created now
    replayed = CreateScratch(it->second.create_sql, scratch[Key(t)]);
    if (!replayed.ok()) break;
  }
  const bool ansi = mode.ansi_quotes || mode.no_backslash_escapes;
  if (replayed.ok() && ansi) {
    replayed = conn_->Execute(absl::StrCat("SET SESSION sql_mode=CONCAT(@@sql_mode, '",
                                           mode.ansi_quotes ? ",ANSI_QUOTES" : "",
                                           mode.no_backslash_escapes ? ",NO_BACKSLASH_ESCAPES" : "", "')"));
  }
  if (replayed.ok()) {
    replayed = conn_->Execute(parsed.rename_tables([&](const TableRef& t) {
      auto s = scratch.find(Key(t));
      return s != scratch.end() ? s->second : t;
    }));
  }
  const unsigned replay_errno = conn_->last_errno();
  if (ansi) {
    (void)conn_->Execute("SET SESSION sql_mode=REPLACE(REPLACE(@@sql_mode, 'ANSI_QUOTES', ''), "
                         "'NO_BACKSLASH_ESCAPES', '')");
  }
  std::vector<std::pair<TableRef, Definition>> after;
  absl::Status read_back = absl::OkStatus();
  if (replayed.ok() || !IsDestinationTrouble(replayed, replay_errno)) {
    for (const TableRef& t : concerned) {
      auto before = tables_.find(Key(t));
      const Definition old = before != tables_.end() ? before->second : Definition{};
      Definition d;
      if (replayed.ok()) {
        auto now = NormalizedCreate(conn_.get(), scratch[Key(t)], t);
        if (!now.ok() && !absl::IsNotFound(now.status())) {
          read_back = now.status();
          break;
        }
        if (now.ok()) d.create_sql = *std::move(now);  // else: dropped (or renamed away)
      } else {
        // The copy refused it (a partition or foreign key the copy lacks, a clash): keep the
        // definition before, in doubt; rows that do not fit it stop the link.
        d.create_sql = old.create_sql;
        d.error = absl::StrCat("the schema history could not follow DDL ", gtid.ToString(), " on ", t.ToString(),
                               " (", replayed.message(), ")");
      }
      if (before != tables_.end() && old.create_sql == d.create_sql && old.error == d.error) continue;
      if (before == tables_.end() && d.create_sql.empty() && d.error.empty()) continue;
      after.emplace_back(t, std::move(d));
    }
  }
  std::vector<std::string> drops;
  for (const auto& [key, s] : scratch) drops.push_back(QuoteTable(s.schema, s.table));
  (void)conn_->Execute(absl::StrCat("DROP TABLE IF EXISTS ", absl::StrJoin(drops, ", ")));
  if (!replayed.ok() && IsDestinationTrouble(replayed, replay_errno)) return replayed;
  if (!read_back.ok()) return read_back;
  for (auto& [t, d] : after) {
    if (!d.error.empty()) LOG(WARNING) << link_id_ << ": " << d.error;
    DUO_RETURN_IF_ERROR(Store(gtid, t, d));
    tables_[Key(t)] = std::move(d);
  }
  return absl::OkStatus();
}

absl::Status SchemaHistory::Store(const Gtid& gtid, const TableRef& table, const Definition& d) {
  std::string sql = absl::StrCat("INSERT INTO ", kMetaSchema, ".", kHistoryTable,
                                 " (link_id, domain_id, server_id, seq, source, table_schema, table_name, "
                                 "create_sql, error) VALUES (");
  AppendQuoted(link_id_, &sql);
  absl::StrAppend(&sql, ",", gtid.domain, ",", gtid.server_id, ",", gtid.sequence, ",");
  AppendQuoted(gtid.series(), &sql);
  absl::StrAppend(&sql, ",", conn_->Quote(table.schema),
                  ",", conn_->Quote(table.table), ",", d.create_sql.empty() ? "NULL" : conn_->Quote(d.create_sql),
                  ",", d.error.empty() ? "NULL" : conn_->Quote(d.error),
                  // Read again after a restart: the same DDL gives the same definition, or a
                  // better one where a passing trouble had made it doubtful.
                  ") ON DUPLICATE KEY UPDATE create_sql=VALUES(create_sql), error=VALUES(error)");
  return conn_->Execute(sql);
}

}  // namespace duosync
