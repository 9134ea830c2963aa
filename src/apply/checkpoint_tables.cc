#include "apply/checkpoint_tables.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "apply/conflict_log.h"
#include "base/status_macros.h"
#include "base/system_schemas.h"
#include "glog/logging.h"
#include "sql/destination_session.h"
#include "sql/sql_literal.h"
#include "sql/statement_pieces.h"

namespace duosync {

std::string RecordAppliedSql(const std::string& quoted_link_id, const std::vector<Gtid>& gtids,
                             bool ignore_duplicates) {
  std::string sql = absl::StrCat(ignore_duplicates ? "INSERT IGNORE INTO " : "INSERT INTO ", kMetaSchema,
                                 ".applied (link_id, domain_id, server_id, seq, source) VALUES ");
  for (size_t i = 0; i < gtids.size(); ++i) {
    absl::StrAppend(&sql, i ? "," : "", "(", quoted_link_id, ",", gtids[i].domain, ",",
                    gtids[i].server_id, ",", gtids[i].sequence, ",");
    AppendQuoted(gtids[i].series(), &sql);
    sql += ')';
  }
  return sql;
}

// table_name compares byte for byte: `db`.`Mix` and `db`.`mix` (or `café` and `cafe`) are distinct
// tables on a case-sensitive server, and under a case- or accent-insensitive collation one's
// progress row would overwrite the other's. Tables made by an earlier version are converted.
absl::Status EnsureFullProgressTable(SqlConnection* conn) {
  constexpr const char* kTableName = "table_name VARCHAR(400) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL";
  DUO_RETURN_IF_ERROR(conn->Execute(absl::StrCat(
      "CREATE TABLE IF NOT EXISTS ", kMetaSchema, ".full_progress ("
      "link_id VARCHAR(191) NOT NULL, ", kTableName, ", last_key MEDIUMTEXT,"
      "rows_copied BIGINT NOT NULL DEFAULT 0, done TINYINT NOT NULL DEFAULT 0,"
      "PRIMARY KEY (link_id, table_name)) ENGINE=InnoDB")));
  auto collation = conn->QueryValue(absl::StrCat(
      "SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='", kMetaSchema,
      "' AND TABLE_NAME='full_progress' AND COLUMN_NAME='table_name'"));
  if (!collation.ok()) return collation.status();
  if (collation->value_or("utf8mb4_bin") == "utf8mb4_bin") return absl::OkStatus();
  absl::Status s = conn->Execute(absl::StrCat("ALTER TABLE ", kMetaSchema, ".full_progress MODIFY ", kTableName));
  // (Not fatal: a lock wait, or an old row format's key limit, leaves the table as it was, which
  // only tables named alike but for case or accents suffer from.)
  if (!s.ok()) LOG(WARNING) << "duosync.full_progress.table_name stays case-insensitive: " << s;
  return absl::OkStatus();
}

CheckpointTables::CheckpointTables(std::unique_ptr<SqlConnection> conn, std::string link_id)
    : conn_(std::move(conn)), link_id_(std::move(link_id)) {
  AppendQuoted(link_id_, &quoted_link_id_);
  fence_.link_id = link_id_;
}

absl::StatusOr<std::unique_ptr<CheckpointTables>> CheckpointTables::Connect(
    const ConnectOptions& destination, std::string link_id, uint32_t origin) {
  auto conn = ConnectDestination(destination, origin);
  if (!conn.ok()) return conn.status();
  return std::unique_ptr<CheckpointTables>(new CheckpointTables(std::move(*conn), std::move(link_id)));
}

absl::Status CheckpointTables::EnsureTables() {
  absl::Status s = conn_->Execute(absl::StrCat(
      "CREATE DATABASE IF NOT EXISTS ", kMetaSchema, ";"
      "CREATE TABLE IF NOT EXISTS ", kMetaSchema, ".checkpoint ("
      "link_id VARCHAR(191) NOT NULL PRIMARY KEY,"
      "position TEXT NOT NULL,"
      "source_commit_time BIGINT NOT NULL DEFAULT 0,"
      "updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)"
      ") ENGINE=InnoDB;"
      // Transactions applied above the checkpoint. The key makes a second application of the same
      // source transaction fail instead of doubling it; the server id is part of it, so a new
      // transaction of a failover target that reuses a sequence number is never taken for one
      // applied before. `source` tells MySQL GTIDs (the uuid) and file places apart (Gtid::series).
      "CREATE TABLE IF NOT EXISTS ", kMetaSchema, ".applied ("
      "link_id VARCHAR(191) NOT NULL, domain_id INT UNSIGNED NOT NULL,"
      "server_id INT UNSIGNED NOT NULL, seq BIGINT UNSIGNED NOT NULL,"
      "source VARBINARY(255) NOT NULL DEFAULT '',"
      "PRIMARY KEY (link_id, domain_id, server_id, seq, source)) ENGINE=InnoDB;"
      // The link's stage: "schema"/"full" until the copy is done, then "incremental"; copy_end is
      // the source position when the copy finished (apply idempotently up to it).
      "CREATE TABLE IF NOT EXISTS ", kMetaSchema, ".stage ("
      "link_id VARCHAR(191) NOT NULL PRIMARY KEY, stage VARCHAR(32) NOT NULL,"
      "copy_end TEXT NOT NULL) ENGINE=InnoDB"));
  if (!s.ok()) return s;
  // Tables created by earlier versions keyed applied transactions without the server id, and
  // without the source (MariaDB GTIDs only).
  auto keyed = conn_->QueryValue(absl::StrCat(
      "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='", kMetaSchema,
      "' AND TABLE_NAME='applied' AND INDEX_NAME='PRIMARY' AND COLUMN_NAME='source'"));
  if (!keyed.ok()) return keyed.status();
  if (keyed->value_or("0") == "0") {
    auto has_column = conn_->QueryValue(absl::StrCat(
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='", kMetaSchema,
        "' AND TABLE_NAME='applied' AND COLUMN_NAME='source'"));
    if (!has_column.ok()) return has_column.status();
    s = conn_->Execute(absl::StrCat(
        "ALTER TABLE ", kMetaSchema, ".applied ",
        has_column->value_or("0") == "0" ? "ADD COLUMN source VARBINARY(255) NOT NULL DEFAULT '', " : "",
        "DROP PRIMARY KEY, ADD PRIMARY KEY (link_id, domain_id, server_id, seq, source)"));
    if (!s.ok()) {
      // Another process starting a link at the same moment may have migrated it first.
      auto again = conn_->QueryValue(absl::StrCat(
          "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='", kMetaSchema,
          "' AND TABLE_NAME='applied' AND INDEX_NAME='PRIMARY' AND COLUMN_NAME='source'"));
      if (!again.ok() || again->value_or("0") == "0") return s;
    }
  }
  s = EnsureConflictTable(conn_.get());
  if (!s.ok()) return s;
  s = EnsureFullProgressTable(conn_.get());
  if (!s.ok()) return s;
  return EnsureOwnerTable(conn_.get());
}

absl::StatusOr<uint64_t> CheckpointTables::TakeOwnership(const std::string& owner) {
  auto epoch = duosync::TakeOwnership(conn_.get(), link_id_, owner);
  if (epoch.ok()) fence_.epoch = *epoch;
  return epoch;
}

absl::Status CheckpointTables::Write(const std::string& sql) {
  absl::Status s = BeginFenced(conn_.get(), fence_);
  if (s.ok()) s = conn_->Execute(sql);
  if (s.ok()) return conn_->Execute("COMMIT");
  if (!absl::IsUnavailable(s) && !IsFenced(s)) (void)conn_->Execute("ROLLBACK");
  return s;
}

absl::Status CheckpointTables::WriteStage(const std::string& stage, const std::string& copy_end) {
  std::string sql = absl::StrCat("REPLACE INTO ", kMetaSchema, ".stage VALUES (", quoted_link_id_, ",");
  AppendQuoted(stage, &sql);
  sql += ",";
  AppendQuoted(copy_end, &sql);
  sql += ")";
  return Write(sql);
}

absl::Status CheckpointTables::InitStage(const std::string& stage) {
  std::string sql = absl::StrCat("INSERT IGNORE INTO ", kMetaSchema, ".stage VALUES (", quoted_link_id_, ",");
  AppendQuoted(stage, &sql);
  sql += ",'')";
  return Write(sql);
}

absl::Status CheckpointTables::ApplyRepair(const std::vector<std::string>& statements, const std::string& through) {
  std::string stage = absl::StrCat("REPLACE INTO ", kMetaSchema, ".stage VALUES (", quoted_link_id_, ",'incremental',");
  AppendQuoted(through, &stage);
  stage += ")";
  std::vector<std::string> all = statements;
  all.push_back(std::move(stage));
  // One fenced transaction, sent in pieces no larger than the destination takes.
  absl::Status s = BeginFenced(conn_.get(), fence_);
  if (s.ok()) s = ExecuteInPieces(conn_.get(), all, "repair");
  if (s.ok()) return conn_->Execute("COMMIT");
  if (!absl::IsUnavailable(s) && !IsFenced(s)) (void)conn_->Execute("ROLLBACK");
  return s;
}

absl::StatusOr<std::pair<std::string, std::string>> CheckpointTables::ReadStage() {
  auto rows = conn_->Query(absl::StrCat("SELECT stage, copy_end FROM ", kMetaSchema,
                                        ".stage WHERE link_id=", quoted_link_id_));
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::make_pair(std::string("incremental"), std::string());
  return std::make_pair((*rows)[0][0].value_or(""), (*rows)[0][1].value_or(""));
}

absl::StatusOr<std::optional<std::string>> CheckpointTables::ReadCheckpoint() {
  auto rows = conn_->Query(absl::StrCat("SELECT position FROM ", kMetaSchema,
                                        ".checkpoint WHERE link_id=", quoted_link_id_));
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>((*rows)[0][0].value_or(""));
}

absl::StatusOr<std::string> CheckpointTables::InitCheckpoint(const std::string& position) {
  std::string sql = absl::StrCat("INSERT IGNORE INTO ", kMetaSchema,
                                 ".checkpoint (link_id, position) VALUES (", quoted_link_id_, ",");
  AppendQuoted(position, &sql);
  sql += ")";
  absl::Status s = Write(sql);
  if (!s.ok()) return s;
  auto recorded = ReadCheckpoint();
  if (!recorded.ok()) return recorded.status();
  return recorded->value_or(position);
}

absl::Status CheckpointTables::ResetCheckpoint(const std::string& position) {
  std::string sql = absl::StrCat("REPLACE INTO ", kMetaSchema,
                                 ".checkpoint (link_id, position) VALUES (", quoted_link_id_, ",");
  AppendQuoted(position, &sql);
  absl::StrAppend(&sql, "); DELETE FROM ", kMetaSchema, ".applied WHERE link_id=", quoted_link_id_);
  return Write(sql);
}

absl::StatusOr<std::vector<Gtid>> CheckpointTables::ReadApplied() {
  auto rows = conn_->Query(absl::StrCat("SELECT domain_id, server_id, seq, source FROM ", kMetaSchema,
                                        ".applied WHERE link_id=", quoted_link_id_));
  if (!rows.ok()) return rows.status();
  std::vector<Gtid> out;
  for (const auto& r : *rows) {
    Gtid g;
    if (!absl::SimpleAtoi(r[0].value_or(""), &g.domain) ||
        !absl::SimpleAtoi(r[1].value_or(""), &g.server_id) ||
        !absl::SimpleAtoi(r[2].value_or(""), &g.sequence)) {
      return absl::DataLossError("unreadable row in duosync.applied");
    }
    g.set_series(r[3].value_or(""));
    out.push_back(g);
  }
  return out;
}

absl::Status CheckpointTables::WriteWatermark(const GtidPosition& position, uint32_t commit_time) {
  std::string sql = absl::StrCat("UPDATE ", kMetaSchema, ".checkpoint SET position=");
  AppendQuoted(position.ToString(), &sql);
  absl::StrAppend(&sql, ", source_commit_time=", commit_time, " WHERE link_id=", quoted_link_id_);
  const std::string del = absl::StrCat(";DELETE FROM ", kMetaSchema, ".applied WHERE link_id=", quoted_link_id_);
  for (const auto& [domain, gtid] : position.domains()) {
    absl::StrAppend(&sql, del, " AND source='' AND domain_id=", domain, " AND seq<=", gtid.sequence);
  }
  for (const auto& [uuid, intervals] : position.mysql_sets()) {
    absl::StrAppend(&sql, del, " AND domain_id=0 AND server_id=0 AND source=");
    AppendQuoted(uuid, &sql);
    for (size_t i = 0; i < intervals.size(); ++i) {
      absl::StrAppend(&sql, i == 0 ? " AND (" : " OR ", "seq BETWEEN ", intervals[i].first, " AND ",
                      intervals[i].second);
    }
    sql += ')';
  }
  if (const Gtid& place = position.file_place(); place.by_file()) {
    absl::StrAppend(&sql, del, " AND domain_id=0 AND server_id=0 AND source=");
    AppendQuoted(place.series(), &sql);
    absl::StrAppend(&sql, " AND seq<=", place.sequence);
  }
  return Write(sql);
}

}  // namespace duosync
