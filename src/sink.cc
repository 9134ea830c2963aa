#include "sink.h"

#include <mysql.h>
#include <mysqld_error.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "names.h"
#include "sql_literal.h"

namespace duosync {
namespace {

// Fails the batch (error 1242) unless the previous statement matched exactly one row.
constexpr absl::string_view kExpectOneRow =
    "SELECT IF(ROW_COUNT() <> 1, (SELECT 1 UNION ALL SELECT 2), 0);";

// A transaction's SQL is sent in pieces of about this size (well under max_allowed_packet).
constexpr size_t kFlushBytes = 4 << 20;

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

// Builds and sends one destination transaction: statements are buffered and flushed in pieces;
// each statement's result is checked; the statement that fails is traced back to its change.
class Sink::Batch {
 public:
  explicit Batch(SqlConnection* conn) : conn_(conn) { sql_ = "START TRANSACTION;"; owners_.push_back(nullptr); }

  absl::Status Add(const RoutedChange& c) {
    const Route& r = *c.route;
    const auto& cols = r.schema->columns;
    if (c.op == RowOp::kInsert && last_insert_ == c.route) {
      // Consecutive inserts into the same table and columns become one multi-row INSERT.
      sql_.pop_back();  // ';'
      sql_.append(",(");
      AppendValues(c);
      sql_.append(");");
      return MaybeFlush();
    }
    last_insert_ = nullptr;
    const std::string table = QuoteTable(r.destination.schema, r.destination.table);
    switch (c.op) {
      case RowOp::kInsert:
        absl::StrAppend(&sql_, "INSERT INTO ", table, " (");
        for (size_t i = 0; i < r.columns.size(); ++i) {
          absl::StrAppend(&sql_, i ? "," : "", QuoteIdent(cols[r.columns[i]].name));
        }
        sql_.append(") VALUES (");
        AppendValues(c);
        sql_.append(");");
        owners_.push_back(&c);
        last_insert_ = c.route;
        break;
      case RowOp::kUpdate:
        absl::StrAppend(&sql_, "UPDATE ", table, " SET ");
        for (size_t i = 0; i < r.columns.size(); ++i) {
          absl::StrAppend(&sql_, i ? "," : "", QuoteIdent(cols[r.columns[i]].name), "=");
          AppendLiteral((*c.after)[r.columns[i]], cols[r.columns[i]], &sql_);
        }
        AppendKeyWhere(c);
        absl::StrAppend(&sql_, ";", kExpectOneRow);
        owners_.push_back(&c);
        owners_.push_back(&c);
        break;
      case RowOp::kDelete:
        absl::StrAppend(&sql_, "DELETE FROM ", table);
        AppendKeyWhere(c);
        absl::StrAppend(&sql_, ";", kExpectOneRow);
        owners_.push_back(&c);
        owners_.push_back(&c);
        break;
    }
    return MaybeFlush();
  }

  // Appends a statement that belongs to no change (bookkeeping).
  void AddRaw(absl::string_view statement) {
    last_insert_ = nullptr;
    sql_.append(statement.data(), statement.size());
    owners_.push_back(nullptr);
  }

  absl::Status Commit() {
    sql_.append("COMMIT");
    owners_.push_back(nullptr);
    return Send();
  }

 private:
  void AppendValues(const RoutedChange& c) {
    const Route& r = *c.route;
    for (size_t i = 0; i < r.columns.size(); ++i) {
      if (i) sql_.push_back(',');
      AppendLiteral((*c.after)[r.columns[i]], r.schema->columns[r.columns[i]], &sql_);
    }
  }

  void AppendKeyWhere(const RoutedChange& c) {
    const Route& r = *c.route;
    sql_.append(" WHERE ");
    for (size_t i = 0; i < r.key_columns.size(); ++i) {
      const int k = r.key_columns[i];
      absl::StrAppend(&sql_, i ? " AND " : "", QuoteIdent(r.schema->columns[k].name), "=");
      AppendLiteral((*c.before)[k], r.schema->columns[k], &sql_);
    }
  }

  absl::Status MaybeFlush() {
    if (sql_.size() < kFlushBytes) return absl::OkStatus();
    sql_.pop_back();  // a trailing ';' would mean an empty statement
    return Send();
  }

  // Sends the buffered statements; reads every result.
  absl::Status Send() {
    MYSQL* m = conn_->raw();
    size_t done = 0;  // statements whose results were read
    bool ok = false;
    if (mysql_real_query(m, sql_.data(), sql_.size()) == 0) {
      int status = 1;
      do {
        // A failing check surfaces while its result set is read, not in mysql_next_result.
        MYSQL_RES* res = mysql_store_result(m);
        if (res != nullptr) mysql_free_result(res);
        else if (mysql_field_count(m) != 0) break;
        ++done;
        status = mysql_next_result(m);
      } while (status == 0);
      ok = status == -1 && mysql_errno(m) == 0;
    }
    if (ok) {
      sql_.clear();
      owners_.clear();
      last_insert_ = nullptr;
      return absl::OkStatus();
    }
    return Failure(done);
  }

  absl::Status Failure(size_t failed) {
    const unsigned err = mysql_errno(conn_->raw());
    absl::Status failure = conn_->ErrorStatus("applying a transaction");
    if (!absl::IsUnavailable(failure)) (void)conn_->Execute("ROLLBACK");
    const RoutedChange* c = failed < owners_.size() ? owners_[failed] : nullptr;
    if (c == nullptr) return failure;
    const std::string where = absl::StrCat(OpName(c->op), " of ", c->route->destination.ToString(),
                                           " row (", DescribeKey(*c), ")");
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

  SqlConnection* conn_;
  std::string sql_;
  std::vector<const RoutedChange*> owners_;  // per buffered statement; null = bookkeeping
  const Route* last_insert_ = nullptr;
};

Sink::Sink(std::unique_ptr<SqlConnection> conn, std::string link_id)
    : conn_(std::move(conn)), link_id_(std::move(link_id)) {
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
      ") ENGINE=InnoDB;"
      // Transactions applied above the checkpoint. The key makes a second application of the same
      // source transaction fail instead of doubling it.
      "CREATE TABLE IF NOT EXISTS ", kMetaSchema, ".applied ("
      "link_id VARCHAR(191) NOT NULL, domain_id INT UNSIGNED NOT NULL,"
      "server_id INT UNSIGNED NOT NULL, seq BIGINT UNSIGNED NOT NULL,"
      "PRIMARY KEY (link_id, domain_id, seq)) ENGINE=InnoDB"));
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

absl::StatusOr<std::vector<Gtid>> Sink::ReadApplied() {
  auto rows = conn_->Query(absl::StrCat("SELECT domain_id, server_id, seq FROM ", kMetaSchema,
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
    out.push_back(g);
  }
  return out;
}

absl::Status Sink::ApplyBatch(const std::vector<const ApplyTask*>& tasks) {
  Batch batch(conn_.get());
  std::string record;
  for (const ApplyTask* task : tasks) {
    for (const RoutedChange& c : task->changes) {
      absl::Status s = batch.Add(c);
      if (!s.ok()) return s;
    }
    if (!task->record) continue;
    absl::StrAppend(&record, record.empty() ? "" : ",", "(", quoted_link_id_, ",",
                    task->txn.gtid.domain, ",", task->txn.gtid.server_id, ",",
                    task->txn.gtid.sequence, ")");
  }
  if (!record.empty()) {
    batch.AddRaw(absl::StrCat("INSERT INTO ", kMetaSchema,
                              ".applied (link_id, domain_id, server_id, seq) VALUES ", record, ";"));
  }
  return batch.Commit();
}

absl::Status Sink::WriteWatermark(const GtidPosition& position, uint32_t commit_time) {
  std::string sql = absl::StrCat("START TRANSACTION; UPDATE ", kMetaSchema, ".checkpoint SET position=");
  AppendQuoted(position.ToString(), &sql);
  absl::StrAppend(&sql, ", source_commit_time=", commit_time, " WHERE link_id=", quoted_link_id_, ";");
  for (const auto& [domain, gtid] : position.domains()) {
    absl::StrAppend(&sql, "DELETE FROM ", kMetaSchema, ".applied WHERE link_id=", quoted_link_id_,
                    " AND domain_id=", domain, " AND seq<=", gtid.sequence, ";");
  }
  sql += "COMMIT";
  return conn_->Execute(sql);
}

}  // namespace duosync
