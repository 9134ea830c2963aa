#include "sink.h"

#include <mysql.h>
#include <mysqld_error.h>

#include "absl/strings/str_cat.h"
#include "names.h"
#include "sql_literal.h"

namespace duosync {
namespace {

// Fails the batch (error 1242) unless the previous statement matched exactly one row.
constexpr absl::string_view kExpectOneRow =
    "SELECT IF(ROW_COUNT() <> 1, (SELECT 1 UNION ALL SELECT 2), 0);";

std::string DescribeKey(const RoutedChange& c) {
  std::string out;
  const Row& row = c.before != nullptr ? *c.before : *c.after;
  for (int k : c.route->key_columns) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", c.route->schema->columns[k].name, "=");
    AppendLiteral(row[k], c.route->schema->columns[k], &out);
  }
  return out;
}

const char* OpName(RowOp op) {
  return op == RowOp::kInsert ? "INSERT" : op == RowOp::kUpdate ? "UPDATE" : "DELETE";
}

}  // namespace

Sink::Sink(std::unique_ptr<SqlConnection> conn, std::string link_id)
    : conn_(std::move(conn)), link_id_(std::move(link_id)) {
  quoted_link_id_.clear();
  AppendQuoted(link_id_, &quoted_link_id_);
}

absl::StatusOr<std::unique_ptr<Sink>> Sink::Connect(const ConnectOptions& destination,
                                                    std::string link_id) {
  auto conn = SqlConnection::Connect(destination);
  if (!conn.ok()) return conn.status();
  // Strict mode: a value that does not fit the destination is an error, never silently cut.
  absl::Status s = (*conn)->Execute(
      "SET SESSION time_zone='+00:00', "
      "sql_mode='STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', "
      "foreign_key_checks=0, autocommit=1");
  if (!s.ok()) return s;
  return std::unique_ptr<Sink>(new Sink(std::move(*conn), std::move(link_id)));
}

absl::Status Sink::EnsureCheckpointTable() {
  return conn_->Execute(absl::StrCat(
      "CREATE DATABASE IF NOT EXISTS ", kMetaSchema, ";"
      "CREATE TABLE IF NOT EXISTS ", kMetaSchema, ".checkpoint ("
      "link_id VARCHAR(191) NOT NULL PRIMARY KEY,"
      "position TEXT NOT NULL,"
      "source_commit_time BIGINT NOT NULL DEFAULT 0,"
      "updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)"
      ") ENGINE=InnoDB"));
}

absl::StatusOr<std::optional<std::string>> Sink::ReadCheckpoint() {
  auto rows = conn_->Query(absl::StrCat("SELECT position FROM ", kMetaSchema,
                                        ".checkpoint WHERE link_id=", quoted_link_id_));
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>((*rows)[0][0].value_or(""));
}

absl::StatusOr<std::string> Sink::InitCheckpoint(const std::string& position) {
  std::string sql = absl::StrCat("INSERT IGNORE INTO ", kMetaSchema,
                                 ".checkpoint (link_id, position) VALUES (", quoted_link_id_, ",");
  AppendQuoted(position, &sql);
  sql += ")";
  absl::Status s = conn_->Execute(sql);
  if (!s.ok()) return s;
  auto recorded = ReadCheckpoint();
  if (!recorded.ok()) return recorded.status();
  return recorded->value_or(position);
}

void Sink::AppendChange(const RoutedChange& c, std::string* sql) {
  const Route& r = *c.route;
  const auto& cols = r.schema->columns;
  const std::string table = QuoteTable(r.destination.schema, r.destination.table);
  auto append_key_where = [&](const Row& row) {
    sql->append(" WHERE ");
    bool first = true;
    for (int k : r.key_columns) {
      if (!first) sql->append(" AND ");
      first = false;
      absl::StrAppend(sql, QuoteIdent(cols[k].name), "=");
      AppendLiteral(row[k], cols[k], sql);
    }
  };
  switch (c.op) {
    case RowOp::kInsert: {
      absl::StrAppend(sql, "INSERT INTO ", table, " (");
      for (size_t i = 0; i < r.columns.size(); ++i) {
        absl::StrAppend(sql, i ? "," : "", QuoteIdent(cols[r.columns[i]].name));
      }
      sql->append(") VALUES (");
      for (size_t i = 0; i < r.columns.size(); ++i) {
        if (i) sql->push_back(',');
        AppendLiteral((*c.after)[r.columns[i]], cols[r.columns[i]], sql);
      }
      sql->append(");");
      break;
    }
    case RowOp::kUpdate: {
      absl::StrAppend(sql, "UPDATE ", table, " SET ");
      for (size_t i = 0; i < r.columns.size(); ++i) {
        absl::StrAppend(sql, i ? "," : "", QuoteIdent(cols[r.columns[i]].name), "=");
        AppendLiteral((*c.after)[r.columns[i]], cols[r.columns[i]], sql);
      }
      append_key_where(*c.before);
      absl::StrAppend(sql, ";", kExpectOneRow);
      break;
    }
    case RowOp::kDelete:
      absl::StrAppend(sql, "DELETE FROM ", table);
      append_key_where(*c.before);
      absl::StrAppend(sql, ";", kExpectOneRow);
      break;
  }
}

absl::Status Sink::Apply(const std::vector<RoutedChange>& changes, const std::string& position,
                         uint32_t commit_time) {
  std::string sql = "START TRANSACTION;";
  // Which change each statement result belongs to, to name it in an error.
  std::vector<int> statement_change;
  statement_change.push_back(-1);
  for (size_t i = 0; i < changes.size(); ++i) {
    AppendChange(changes[i], &sql);
    statement_change.push_back(i);
    if (changes[i].op != RowOp::kInsert) statement_change.push_back(i);
  }
  absl::StrAppend(&sql, "UPDATE ", kMetaSchema, ".checkpoint SET position=");
  AppendQuoted(position, &sql);
  absl::StrAppend(&sql, ", source_commit_time=", commit_time, " WHERE link_id=", quoted_link_id_,
                  ";", kExpectOneRow, "COMMIT");
  MYSQL* m = conn_->raw();
  size_t failed = 0;  // index of the statement that stopped the batch
  if (mysql_real_query(m, sql.data(), sql.size()) == 0) {
    int status = 1;
    do {
      // A failing check surfaces while its result set is read, not in mysql_next_result.
      MYSQL_RES* res = mysql_store_result(m);
      if (res != nullptr) mysql_free_result(res);
      else if (mysql_field_count(m) != 0) break;
      ++failed;
      status = mysql_next_result(m);
    } while (status == 0);
    if (status == -1 && mysql_errno(m) == 0) return absl::OkStatus();
  }
  // The batch stopped at statement `failed`, before COMMIT.
  const unsigned err = mysql_errno(m);
  absl::Status failure = conn_->ErrorStatus("applying a transaction");
  if (err != 0 && !absl::IsUnavailable(failure)) {
    (void)conn_->Execute("ROLLBACK");
  }
  const int index = failed < statement_change.size() ? statement_change[failed] : -1;
  if (index < 0) {
    if (err == ER_SUBQUERY_NO_1_ROW) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the checkpoint row of link ", link_id_, " vanished from ", kMetaSchema,
          ".checkpoint on the destination; restart the link to record it again"));
    }
    return failure;
  }
  const RoutedChange& c = changes[index];
  const std::string where = absl::StrCat(OpName(c.op), " of ", c.route->destination.ToString(),
                                         " row (", DescribeKey(c), ")");
  if (err == ER_SUBQUERY_NO_1_ROW) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, " found no such row on the destination: the destination has drifted from the "
        "source; the transaction was not applied and the checkpoint stays before it"));
  }
  if (err == ER_DUP_ENTRY) {
    return absl::AlreadyExistsError(absl::StrCat(
        where, " hit an existing row on the destination (", failure.message(), ")"));
  }
  return absl::Status(failure.code(), absl::StrCat(where, ": ", failure.message()));
}

}  // namespace duosync
