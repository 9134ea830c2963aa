#include "apply/sink.h"

#include <mysql.h>
#include <mysqld_error.h>

#include <algorithm>
#include <map>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "apply/checkpoint_tables.h"
#include "apply/fence.h"
#include "apply/row_sql.h"
#include "apply/statement_grouping.h"
#include "base/names.h"
#include "base/statement_redaction.h"
#include "glog/logging.h"
#include "sql/destination_session.h"
#include "sql/sql_literal.h"

namespace duosync {
namespace {

// A transaction's SQL is sent in pieces of about this size, and never more than the
// destination's max_allowed_packet at once (less this, for the protocol's own bytes).
constexpr size_t kFlushBytes = 4 << 20;
constexpr size_t kPacketHeadroom = 1024;

constexpr absl::string_view kAlreadyApplied = "already applied: ";


}  // namespace

absl::Status AlreadyAppliedError(const std::string& detail) {
  return absl::AlreadyExistsError(absl::StrCat(kAlreadyApplied, detail));
}

bool IsAlreadyApplied(const absl::Status& s) {
  return absl::IsAlreadyExists(s) && absl::StartsWith(s.message(), kAlreadyApplied);
}

// Builds and sends one destination transaction. Statements are buffered and sent in pieces; the
// rows each UPDATE/DELETE matched are checked as its result arrives, and COMMIT goes out only after
// every check passed (a separate round trip), so a drifted destination never gets half a
// transaction. Consecutive INSERTs (and DELETEs) of the same table become multi-row statements.
class Sink::Batch {
 public:
  // `fence`: the transaction first reads the link's ownership row under a shared lock, and goes
  // no further unless this process still owns the link (fence.h).
  // `max_packet`: the destination's max_allowed_packet; no piece sent is larger.
  Batch(SqlConnection* conn, const Fence& fence, size_t max_packet)
      : conn_(conn), fence_(fence), max_packet_(max_packet),
        budget_(max_packet > 2 * kPacketHeadroom ? max_packet - kPacketHeadroom : max_packet / 2),
        flush_bytes_(std::min(kFlushBytes, budget_ / 2)) {
    // Foreign keys in force again even if an idempotent batch that failed left them off.
    sql_ = "SET SESSION foreign_key_checks=1;START TRANSACTION;";
    statements_.push_back(Statement{});
    statements_.push_back(Statement{});
    if (fence.epoch != 0) {
      sql_ += FenceQuery(conn, fence) + ";";
      Statement check;
      check.fence = true;
      statements_.push_back(check);
    }
  }

  // `match_image`: an UPDATE/DELETE must find the row exactly as its before image (conflict
  // detection of active-active links), not only its key. A change that would make the buffered
  // piece larger than a packet goes into the next piece; one that fits no packet stops the link
  // (FailedPrecondition naming the row and the setting), with the transaction rolled back.
  absl::Status Add(const RoutedChange& c, bool match_image, bool idempotent) {
    const Mark mark = MarkNow();
    AddStatements(c, match_image, idempotent);
    if (sql_.size() > budget_) {
      Restore(mark);
      if (!sql_.empty()) {
        sql_.pop_back();  // ';'
        absl::Status sent = Send();
        if (!sent.ok()) return sent;
      }
      AddStatements(c, match_image, idempotent);  // alone in its piece now
      if (sql_.size() > budget_) {
        const size_t needed = sql_.size() + kPacketHeadroom;
        (void)conn_->Execute("ROLLBACK");
        return absl::FailedPreconditionError(absl::StrCat(
            RowOpName(c.op), " of ", c.route->destination.ToString(), " row (",
            DescribeKey(*c.route, c.before != nullptr ? *c.before : *c.after), ") needs a statement of ",
            needed, " bytes, more than the destination's max_allowed_packet (", max_packet_,
            "); raise it on the destination (SET GLOBAL max_allowed_packet=", RoundUpToMiB(needed),
            ", and in its config file) and resume; nothing of this transaction was applied"));
      }
    }
    if (sql_.size() < flush_bytes_) return absl::OkStatus();
    sql_.pop_back();  // a trailing ';' would mean an empty statement
    return Send();
  }

 private:
  // Where the buffer stood before a change was added, to take the change back out.
  struct Mark {
    size_t sql_size, statements;
    int back_expected_rows;
    const Route* last_route;
    RowOp last_op;
    bool last_idempotent, foreign_keys_off;
  };
  Mark MarkNow() const {
    return Mark{sql_.size(), statements_.size(), statements_.empty() ? 0 : statements_.back().expected_rows,
                last_route_, last_op_, last_idempotent_, foreign_keys_off_};
  }
  void Restore(const Mark& m) {
    sql_.resize(m.sql_size);
    statements_.resize(m.statements);
    if (!statements_.empty()) statements_.back().expected_rows = m.back_expected_rows;
    last_route_ = m.last_route;
    last_op_ = m.last_op;
    last_idempotent_ = m.last_idempotent;
    foreign_keys_off_ = m.foreign_keys_off;
  }
  // Foreign keys in force for the next statement as the source session had them.
  void ForeignKeyChecks(bool off) {
    if (off == foreign_keys_off_) return;
    sql_.append(off ? "SET SESSION foreign_key_checks=0;" : "SET SESSION foreign_key_checks=1;");
    statements_.push_back(Statement{});
    foreign_keys_off_ = off;
    last_route_ = nullptr;  // no statement merges across the switch
  }
  static size_t RoundUpToMiB(size_t bytes) { return ((bytes >> 20) + 1) << 20; }

  void AddStatements(const RoutedChange& c, bool match_image, bool idempotent) {
    const Route& r = *c.route;
    if (idempotent) return AddIdempotent(c);
    ForeignKeyChecks(c.foreign_key_checks_off);
    const bool mergeable = c.op == RowOp::kInsert || (c.op == RowOp::kDelete && !match_image);
    if (mergeable && last_route_ == c.route && last_op_ == c.op && !last_idempotent_) {
      sql_.pop_back();  // ';'
      if (c.op == RowOp::kInsert) {
        sql_.push_back(',');
        AppendValueTuple(r, *c.after, &sql_);
        sql_.push_back(';');
      } else {
        sql_.pop_back();  // ')' closing the IN list
        sql_.push_back(',');
        AppendKeyTuple(r, *c.before, &sql_);
        sql_.append(");");
        ++statements_.back().expected_rows;
      }
      return;
    }
    last_idempotent_ = false;
    switch (c.op) {
      case RowOp::kInsert:
        absl::StrAppend(&sql_, "INSERT INTO ", DestinationTable(r), " ");
        AppendColumnList(r, &sql_);
        sql_.append(" VALUES ");
        AppendValueTuple(r, *c.after, &sql_);
        sql_.push_back(';');
        statements_.push_back(Statement{&c, -1});
        break;
      case RowOp::kUpdate:
        absl::StrAppend(&sql_, "UPDATE ", DestinationTable(r), " SET ");
        AppendChangedSetList(r, *c.before, *c.after, &sql_);
        sql_.append(" WHERE ");
        match_image ? AppendImageCondition(r, *c.before, &sql_) : AppendKeyCondition(r, *c.before, &sql_);
        sql_.push_back(';');
        statements_.push_back(Statement{&c, 1});
        break;
      case RowOp::kDelete:
        absl::StrAppend(&sql_, "DELETE FROM ", DestinationTable(r), " WHERE ");
        if (match_image) {
          AppendImageCondition(r, *c.before, &sql_);
        } else {
          sql_.push_back('(');
          for (size_t i = 0; i < r.key_columns.size(); ++i) {
            absl::StrAppend(&sql_, i ? "," : "", QuoteIdent(r.schema->columns[r.key_columns[i]].name));
          }
          sql_.append(") IN (");
          AppendKeyTuple(r, *c.before, &sql_);
          sql_.push_back(')');
        }
        sql_.push_back(';');
        statements_.push_back(Statement{&c, 1});
        break;
    }
    last_route_ = mergeable ? c.route : nullptr;
    last_op_ = c.op;
  }


  // Changes the full copy may already hold: the row ends as the after image (or absent) whatever
  // was there; nothing is counted. A DELETE keeps the foreign keys in force (the destination
  // repeats the source's cascade); the DELETE+REPLACE of an INSERT or UPDATE runs without them (as
  // the copy does), so that replacing a parent row does not cascade to its children.
  void AddIdempotent(const RoutedChange& c) {
    const Route& r = *c.route;
    ForeignKeyChecks(c.op != RowOp::kDelete || c.foreign_key_checks_off);
    if (c.op != RowOp::kInsert) {
      absl::StrAppend(&sql_, "DELETE FROM ", DestinationTable(r), " WHERE ");
      AppendKeyCondition(r, *c.before, &sql_);
      sql_.push_back(';');
      statements_.push_back(Statement{&c, -1});
    }
    if (c.op != RowOp::kDelete) {
      absl::StrAppend(&sql_, "REPLACE INTO ", DestinationTable(r), " ");
      AppendColumnList(r, &sql_);
      sql_.append(" VALUES ");
      AppendValueTuple(r, *c.after, &sql_);
      sql_.push_back(';');
      statements_.push_back(Statement{&c, -1});
    }
    last_route_ = nullptr;
    last_idempotent_ = true;
  }


 public:
  // Appends one UPDATE of every change of `group` (REQUIRES: at least two, all of one route with
  // the same foreign key checks, each setting exactly `columns`: statement_grouping.h), joined by
  // key with a derived table of their values. It must match as many rows as it has changes.
  absl::Status AddUpdateJoin(const std::vector<GroupedChange>& group, const std::vector<int>& columns) {
    const Route& r = *group[0].change->route;
    std::string statement = "UPDATE (";
    for (size_t i = 0; i < group.size(); ++i) {
      statement.append(i ? " UNION ALL SELECT " : "SELECT ");
      const Row& before = *group[i].change->before;
      const Row& after = *group[i].change->after;
      bool first = true;
      for (int k : r.key_columns) {
        if (!first) statement.push_back(',');
        first = false;
        AppendLiteral(before[k], r.schema->columns[k], &statement);
        if (i == 0) absl::StrAppend(&statement, " AS ", QuoteIdent(r.schema->columns[k].name));
      }
      for (int c : columns) {
        statement.push_back(',');
        AppendLiteral(after[c], r.schema->columns[c], &statement);
        if (i == 0) absl::StrAppend(&statement, " AS ", QuoteIdent(r.schema->columns[c].name));
      }
    }
    // STRAIGHT_JOIN: the few rows drive, each finds its row by key (an optimizer that guessed
    // from an empty table's statistics would scan the table instead).
    absl::StrAppend(&statement, ") AS duosync_v STRAIGHT_JOIN ", DestinationTable(r), " AS duosync_t ON ");
    for (size_t i = 0; i < r.key_columns.size(); ++i) {
      const std::string k = QuoteIdent(r.schema->columns[r.key_columns[i]].name);
      absl::StrAppend(&statement, i ? " AND " : "", "duosync_t.", k, "=duosync_v.", k);
    }
    statement.append(" SET ");
    for (size_t i = 0; i < columns.size(); ++i) {
      const std::string c = QuoteIdent(r.schema->columns[columns[i]].name);
      absl::StrAppend(&statement, i ? "," : "", "duosync_t.", c, "=duosync_v.", c);
    }
    statement.push_back(';');
    // Room for it and a foreign key switch before it; a group too big for a packet goes in halves.
    if (statement.size() + 64 > budget_ / 2) {
      const size_t half = group.size() / 2;
      for (const auto& part : {std::vector<GroupedChange>(group.begin(), group.begin() + half),
                               std::vector<GroupedChange>(group.begin() + half, group.end())}) {
        absl::Status s = part.size() > 1 ? AddUpdateJoin(part, columns)
                                         : Add(*part[0].change, /*match_image=*/false, /*idempotent=*/false);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
    if (!sql_.empty() && sql_.size() + statement.size() + 64 > budget_) {
      sql_.pop_back();  // ';'
      absl::Status sent = Send();
      if (!sent.ok()) return sent;
    }
    ForeignKeyChecks(group[0].change->foreign_key_checks_off);
    sql_.append(statement);
    statements_.push_back(Statement{group[0].change, static_cast<int>(group.size())});
    last_route_ = nullptr;
    last_idempotent_ = false;
    if (sql_.size() < flush_bytes_) return absl::OkStatus();
    sql_.pop_back();
    return Send();
  }

  // The next change starts a statement of its own (no INSERT or DELETE extends the last one).
  void EndMerge() { last_route_ = nullptr; }

  // Appends a statement that belongs to no change (bookkeeping).
  absl::Status AddRaw(absl::string_view statement) {
    if (!sql_.empty() && sql_.size() + statement.size() > budget_) {
      sql_.pop_back();  // ';'
      absl::Status sent = Send();
      if (!sent.ok()) return sent;
    }
    last_route_ = nullptr;
    sql_.append(statement.data(), statement.size());
    statements_.push_back(Statement{});
    return absl::OkStatus();
  }

  // Sends what is buffered (the transaction stays open): no statement refers to a change after.
  absl::Status Flush() {
    if (sql_.empty()) return absl::OkStatus();
    sql_.pop_back();
    return Send();
  }

  absl::Status Commit() {
    absl::Status s = Flush();
    if (!s.ok()) return s;
    return conn_->Execute("COMMIT");
  }

 private:
  struct Statement {
    const RoutedChange* change = nullptr;  // the (first) change it writes; null for bookkeeping
    int expected_rows = -1;                // rows an UPDATE/DELETE must match; -1 = not checked
    bool fence = false;                    // the ownership check: its row must show our epoch
  };

  // Sends the buffered statements; reads and checks every result.
  absl::Status Send() {
    MYSQL* m = conn_->raw();
    size_t done = 0;  // statements whose results were read and checked
    bool ok = false;
    bool missing_row = false;
    absl::Status fenced;
    if (mysql_real_query(m, sql_.data(), sql_.size()) == 0) {
      int status = 1;
      do {
        MYSQL_RES* res = mysql_store_result(m);
        const Statement& st = statements_[done];
        if (res != nullptr && st.fence) fenced = CheckFence(fence_, FirstRow(res).get());
        if (res != nullptr) mysql_free_result(res);
        else if (mysql_field_count(m) != 0) break;
        if (!fenced.ok() || (st.expected_rows >= 0 &&
                             mysql_affected_rows(m) != static_cast<my_ulonglong>(st.expected_rows))) {
          missing_row = fenced.ok();
          // Drain the rest of the batch before rolling back.
          while (mysql_next_result(m) == 0) {
            if (MYSQL_RES* extra = mysql_store_result(m)) mysql_free_result(extra);
          }
          break;
        }
        ++done;
        status = mysql_next_result(m);
      } while (status == 0);
      ok = !missing_row && fenced.ok() && status == -1 && mysql_errno(m) == 0;
    }
    if (ok) {
      sql_.clear();
      statements_.clear();
      last_route_ = nullptr;
      return absl::OkStatus();
    }
    if (!fenced.ok()) {
      (void)conn_->Execute("ROLLBACK");
      return fenced;
    }
    return Failure(done, missing_row);
  }

  absl::Status Failure(size_t failed, bool missing_row) {
    const unsigned err = missing_row ? 0 : mysql_errno(conn_->raw());
    absl::Status failure = missing_row ? absl::OkStatus() : conn_->ErrorStatus("applying a transaction");
    if (!absl::IsUnavailable(failure)) (void)conn_->Execute("ROLLBACK");
    const RoutedChange* c = failed < statements_.size() ? statements_[failed].change : nullptr;
    // The only bookkeeping statement that can hit a duplicate is the GTID record.
    if (c == nullptr && err == ER_DUP_ENTRY) return AlreadyAppliedError(std::string(failure.message()));
    if (c == nullptr) return missing_row ? absl::InternalError("unexpected row count") : failure;
    const std::string where =
        absl::StrCat(RowOpName(c->op), " of ", c->route->destination.ToString(), " row (",
                     DescribeKey(*c->route, c->before != nullptr ? *c->before : *c->after), ")");
    if (missing_row) {
      const int n = statements_[failed].expected_rows;
      return absl::FailedPreconditionError(absl::StrCat(
          where, n > 1 ? absl::StrCat(" or one of the ", n - 1, " other rows of its statement") : "",
          " found no such row on the destination: the destination has drifted from the "
          "source; the transaction was not applied and the checkpoint stays before it"));
    }
    if (err == ER_DUP_ENTRY) {
      return absl::AlreadyExistsError(absl::StrCat(
          where, " hit an existing row on the destination (", failure.message(), ")"));
    }
    return absl::Status(failure.code(), absl::StrCat(where, ": ", failure.message()));
  }

  // The first row of a result, as SqlRow; null when it has none.
  static std::unique_ptr<SqlRow> FirstRow(MYSQL_RES* res) {
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row == nullptr) return nullptr;
    unsigned long* lengths = mysql_fetch_lengths(res);
    auto out = std::make_unique<SqlRow>();
    for (unsigned i = 0; i < mysql_num_fields(res); ++i) {
      if (row[i] == nullptr) out->push_back(std::nullopt);
      else out->push_back(std::string(row[i], lengths[i]));
    }
    return out;
  }

  SqlConnection* conn_;
  const Fence& fence_;
  const size_t max_packet_, budget_, flush_bytes_;
  std::string sql_;
  std::vector<Statement> statements_;  // per buffered statement
  const Route* last_route_ = nullptr;  // of the last INSERT/DELETE, to extend it
  RowOp last_op_ = RowOp::kInsert;
  bool last_idempotent_ = false;
  bool foreign_keys_off_ = false;  // the session's foreign_key_checks as the statements so far left it
};

Sink::Sink(std::unique_ptr<SqlConnection> conn, std::string link_id, uint64_t epoch)
    : conn_(std::move(conn)), link_id_(std::move(link_id)), fence_{link_id_, epoch} {
  AppendQuoted(link_id_, &quoted_link_id_);
}

absl::StatusOr<std::unique_ptr<Sink>> Sink::Connect(const ConnectOptions& destination,
                                                    std::string link_id, uint32_t origin, uint64_t epoch) {
  auto conn = ConnectDestination(destination, origin);
  if (!conn.ok()) return conn.status();
  // Row changes apply with the destination's foreign keys in force, as on a replica: a cascade
  // at the source is not in its binlog, the destination's own cascade repeats it. (DDL turns the
  // checks off for its statement: ApplyDdl.)
  absl::Status s = (*conn)->Execute("SET SESSION foreign_key_checks=1");
  if (!s.ok()) return s;
  // Read once: a session's max_allowed_packet is the global value at connect.
  auto packet = (*conn)->MaxAllowedPacket();
  if (!packet.ok()) return packet.status();
  const size_t max_packet = *packet;
  // MySQL 8 knows only @@transaction_isolation, MariaDB before 11.1 only @@tx_isolation.
  auto isolation = (*conn)->QueryValue("SELECT @@transaction_isolation");
  if (!isolation.ok()) isolation = (*conn)->QueryValue("SELECT @@tx_isolation");
  const std::string level = isolation.ok() ? isolation->value_or("") : "";
  auto sink = std::unique_ptr<Sink>(new Sink(std::move(*conn), std::move(link_id), epoch));
  sink->waits_for_uncommitted_rows_ = level == "REPEATABLE-READ" || level == "SERIALIZABLE";
  sink->max_packet_ = max_packet;
  sink->destination_ = destination;
  sink->origin_ = origin;
  return sink;
}

namespace {

// Watches a connection that runs a long statement: while the destination answers (a second
// connection sees the statement's session), it waits; once the destination has not answered
// for `timeout`, it cuts the connection so that the statement returns (with an error).
class DdlWatchdog {
 public:
  DdlWatchdog(const ConnectOptions& destination, SqlConnection* running, std::string connection_id,
              absl::Duration timeout)
      : destination_(destination), running_(running), id_(std::move(connection_id)), timeout_(timeout),
        thread_([this] { Run(); }) {}
  ~DdlWatchdog() {
    Finish();
    thread_.join();
  }
  // Ends the watch; whether it cut the connection (decided under the same lock, so a statement
  // that returned before this call is never reported cut afterwards).
  bool Finish() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    std::lock_guard<std::mutex> lock(mu_);
    return cut_;
  }

 private:
  void Run() {
    ConnectOptions o = destination_;
    o.connect_timeout_s = 5;
    o.read_timeout_s = 5;
    std::unique_ptr<SqlConnection> monitor;
    absl::Time answered = absl::Now();
    // Cut only a destination that answered once and then fell silent: a monitor that never gets
    // in (connection limits) says nothing about the destination.
    bool ever_answered = false;
    std::unique_lock<std::mutex> lock(mu_);
    std::chrono::milliseconds pause(0);  // the first look at once, then every second
    while (!cv_.wait_for(lock, pause, [this] { return done_; })) {
      pause = std::chrono::seconds(1);
      lock.unlock();
      if (monitor == nullptr) {
        auto c = SqlConnection::Connect(o);
        if (c.ok()) monitor = std::move(*c);
      }
      if (monitor != nullptr) {
        auto seen = monitor->Query("SELECT 1 FROM information_schema.PROCESSLIST WHERE ID=" + id_);
        if (seen.ok()) {
          answered = absl::Now();
          ever_answered = true;
        } else {
          monitor.reset();
        }
      }
      const bool silent = ever_answered && absl::Now() - answered > timeout_;
      lock.lock();
      if (silent && !done_) {
        LOG(WARNING) << "the destination has not answered for " << absl::FormatDuration(timeout_)
                     << " while a DDL runs: giving the connection up";
        cut_ = true;
        mariadb_cancel(running_->raw());
        return;
      }
    }
  }

  const ConnectOptions destination_;
  SqlConnection* running_;
  const std::string id_;
  const absl::Duration timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool cut_ = false;  // guarded by mu_
  std::thread thread_;  // last: starts once the members above exist
};

// How long a DDL connection waits for an answer: as long as it takes (the watchdog decides).
constexpr unsigned kDdlReadTimeoutSeconds = 7 * 24 * 3600;

}  // namespace

absl::Status Sink::ApplyDdl(const ApplyTask& task) {
  ConnectOptions options = destination_;
  const unsigned timeout_s = options.read_timeout_s > 0 ? options.read_timeout_s : 600;
  options.read_timeout_s = kDdlReadTimeoutSeconds;
  // A table change is not a row change: no foreign key is checked for it (a parent dropped
  // before its child, a child created before its parent, as the source allowed); a destination
  // session has them off until told otherwise.
  auto ddl_conn = ConnectDestination(options, origin_);
  if (!ddl_conn.ok()) return ddl_conn.status();
  SqlConnection* conn = ddl_conn->get();
  auto id = conn->QueryValue("SELECT CONNECTION_ID()");
  if (!id.ok()) return id.status();
  // A DDL commits by itself (ending the fence's transaction first): the check just before it is
  // as close as the server lets a fence come.
  // The same DDL still running from an earlier attempt (whose connection was given up) finishes
  // first: sending it again meanwhile would run it twice.
  std::string same;
  AppendQuoted(task.ddl_sql, &same);
  while (true) {
    auto running = conn->Query(absl::StrCat("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO=", same,
                                            " AND ID<>CONNECTION_ID()"));
    if (!running.ok()) return running.status();
    if (running->empty()) break;
    LOG_EVERY_N(WARNING, 30) << "waiting for an earlier attempt of this DDL to finish on the destination";
    absl::SleepFor(absl::Seconds(1));
  }
  absl::Status s = BeginFenced(conn, fence_);
  if (!s.ok()) return s;
  {
    DdlWatchdog watchdog(destination_, conn, id->value_or("0"), absl::Seconds(timeout_s));
    s = conn->Execute(task.ddl_sql);
    if (watchdog.Finish() && !s.ok()) {
      return absl::UnavailableError(absl::StrCat("DDL ", RedactStatementSecrets(task.ddl_sql.substr(0, 200)),
                                                 ": the destination stopped answering while it ran"));
    }
  }
  // A RENAME repeated after a crash finds its table renamed already.
  if (!s.ok() && !(task.ddl_is_rename && absl::IsNotFound(s))) {
    return absl::Status(s.code(), absl::StrCat("DDL ", RedactStatementSecrets(task.ddl_sql), ": ", s.message()));
  }
  // DDL commits by itself: its GTID is recorded right after, on the same connection (the sink's
  // own sat idle through the DDL, maybe past the server's wait_timeout). A crash in between
  // repeats the DDL, which IF [NOT] EXISTS makes harmless.
  s = BeginFenced(conn, fence_);
  if (s.ok()) s = conn->Execute(RecordAppliedSql(quoted_link_id_, {task.txn.gtid}, /*ignore_duplicates=*/true));
  if (s.ok()) return conn->Execute("COMMIT");
  if (!absl::IsUnavailable(s) && !IsFenced(s)) (void)conn->Execute("ROLLBACK");
  return s;
}

absl::Status Sink::ApplyBatch(const std::vector<const ApplyTask*>& tasks, bool match_image,
                              bool group_statements, const std::function<absl::Status()>& before_commit) {
  if (tasks.size() == 1 && !tasks[0]->ddl_sql.empty()) return ApplyDdl(*tasks[0]);
  Batch batch(conn_.get(), fence_, max_packet_);
  // The GTID record comes first: it is also the opposite link's echo marker, which must be in the
  // first part should that link read this transaction in parts.
  std::vector<Gtid> record;
  for (const ApplyTask* task : tasks) {
    if (task->record) record.push_back(task->txn.gtid);
  }
  if (!record.empty()) {
    absl::Status s = batch.AddRaw(RecordAppliedSql(quoted_link_id_, record) + ";");
    if (!s.ok()) return s;
  }
  std::vector<GroupedChange> changes;
  for (const ApplyTask* task : tasks) {
    for (const RoutedChange& c : task->changes) changes.push_back(GroupedChange{&c, task->idempotent});
  }
  // An active-active link never overwrites blindly, even where the destination may hold the
  // change already (after a copy, in a replay): its conflicts go through the policy, which
  // passes over a row already as the change makes it. Nor does it group (its statements match
  // before images).
  const std::vector<ChangeGroup> groups =
      group_statements && !match_image ? GroupChanges(changes) : std::vector<ChangeGroup>{ChangeGroup{changes, {}}};
  for (const ChangeGroup& group : groups) {
    // Groups apart stay apart: a DELETE ... IN list deletes in key order, not in its own.
    batch.EndMerge();
    if (group.changes.size() > 1 && !group.update_columns.empty()) {
      absl::Status s = batch.AddUpdateJoin(group.changes, group.update_columns);
      if (!s.ok()) return s;
      continue;
    }
    for (const GroupedChange& g : group.changes) {
      absl::Status s = batch.Add(*g.change, match_image, g.idempotent && !match_image);
      if (!s.ok()) return s;
    }
  }
  return CommitBatch(&batch, before_commit);
}

absl::Status Sink::CommitBatch(Batch* batch, const std::function<absl::Status()>& before_commit) {
  if (before_commit) {
    absl::Status s = batch->Flush();  // (a failed statement rolled the transaction back)
    if (!s.ok()) return s;
    s = before_commit();
    if (!s.ok()) {
      (void)conn_->Execute("ROLLBACK");
      return s;
    }
  }
  return batch->Commit();
}

namespace {

// Conflict records of one transaction in parts kept in memory until its commit; beyond, counted.
constexpr size_t kKeptConflicts = 1000;

// Records a GTID as applied (RecordAppliedSql); a duplicate means it was applied before.
absl::Status ExecuteRecord(SqlConnection* conn, const std::string& sql) {
  absl::Status s = conn->Execute(sql);
  return absl::IsAlreadyExists(s) ? AlreadyAppliedError(std::string(s.message())) : s;
}

// One change through the conflict policy, with foreign keys in force as the source had them.
absl::Status ApplyThroughPolicy(SqlConnection* conn, ConflictResolver* resolver, const RoutedChange& c,
                                std::vector<ConflictRecord>* resolved) {
  if (!c.foreign_key_checks_off) return resolver->Apply(conn, c, resolved);
  absl::Status s = conn->Execute("SET SESSION foreign_key_checks=0");
  if (s.ok()) s = resolver->Apply(conn, c, resolved);
  absl::Status back = conn->Execute("SET SESSION foreign_key_checks=1");
  return s.ok() ? back : s;
}

}  // namespace

absl::Status Sink::ApplyStreamed(std::unique_ptr<ApplyTask> first, const NextPart& next,
                                 ConflictResolver* resolver, uint64_t* rows) {
  std::unique_ptr<ApplyTask> part = std::move(first);
  const Gtid gtid = part->txn.gtid;
  std::unique_ptr<Batch> batch;
  std::vector<ConflictRecord> resolved;
  std::map<std::pair<std::string, std::string>, uint64_t> unkept;  // conflicts only counted
  absl::Status s;
  // The GTID record first: the opposite link's echo marker must be in the first part it reads.
  const std::string record = part->record ? RecordAppliedSql(quoted_link_id_, {gtid}) : "";
  if (resolver != nullptr) {
    s = conn_->Execute("SET SESSION foreign_key_checks=1");
    if (s.ok()) s = BeginFenced(conn_.get(), fence_);
    if (s.ok() && !record.empty()) s = ExecuteRecord(conn_.get(), record);
  } else {
    batch = std::make_unique<Batch>(conn_.get(), fence_, max_packet_);
    if (!record.empty()) s = batch->AddRaw(record + ";");
  }
  *rows = 0;
  bool source_failed = false;  // the error came from reading the next part, not the destination
  while (s.ok()) {
    for (const RoutedChange& c : part->changes) {
      s = resolver != nullptr ? ApplyThroughPolicy(conn_.get(), resolver, c, &resolved)
                              : batch->Add(c, /*match_image=*/false, part->idempotent);
      if (!s.ok()) break;
    }
    if (s.ok() && batch != nullptr) s = batch->Flush();  // before the part's rows go
    if (!s.ok()) break;
    if (resolved.size() > kKeptConflicts) {
      // Memory stays bounded however many rows conflict: the oldest records are only counted.
      const size_t drop = resolved.size() - kKeptConflicts;
      for (size_t i = 0; i < drop; ++i) ++unkept[{resolved[i].policy, resolved[i].outcome}];
      resolved.erase(resolved.begin(), resolved.begin() + static_cast<std::ptrdiff_t>(drop));
    }
    *rows += part->changes.size();
    if (!part->txn.more_parts) break;
    const uint32_t number = part->txn.part;
    part.reset();
    auto following = next();
    if (!following.ok()) {
      s = following.status();
      source_failed = true;
      break;
    }
    part = *std::move(following);
    if (part->txn.gtid.ToString() != gtid.ToString() || part->txn.part != number + 1) {
      // The source (or the store) began it again: a reconnect in the middle. Read it again whole.
      s = absl::UnavailableError(absl::StrCat("part ", number + 1, " of transaction ", gtid.ToString(),
                                              " did not follow part ", number, " (part ", part->txn.part, " of ",
                                              part->txn.gtid.ToString(), " came); reading it again"));
      source_failed = true;
    }
  }
  if (s.ok()) s = batch != nullptr ? batch->Commit() : conn_->Execute("COMMIT");
  if (s.ok()) {
    if (resolver != nullptr) {
      resolver->PublishCounts(unkept);
      resolver->Publish(resolved);
    }
    return s;
  }
  // (The batch rolled back already when one of its statements failed; once more is harmless.)
  if (source_failed || (!absl::IsUnavailable(s) && !IsFenced(s))) (void)conn_->Execute("ROLLBACK");
  if (IsAlreadyApplied(s)) {
    // Applied before (a commit whose reply was lost): pass the rest of it over.
    for (bool more = part != nullptr && part->txn.more_parts; more;) {
      part.reset();
      auto following = next();
      if (!following.ok()) return following.status();
      more = (*following)->txn.more_parts;
    }
    *rows = 0;
    return absl::OkStatus();
  }
  return s;
}

absl::Status Sink::ApplyResolving(const ApplyTask& task, ConflictResolver* resolver) {
  absl::Status s = conn_->Execute("SET SESSION foreign_key_checks=1");
  if (!s.ok()) return s;
  s = BeginFenced(conn_.get(), fence_);
  if (IsFenced(s)) return s;
  if (s.ok() && task.record) {  // first: also the opposite link's echo marker (ApplyBatch)
    s = ExecuteRecord(conn_.get(), RecordAppliedSql(quoted_link_id_, {task.txn.gtid}));
  }
  std::vector<ConflictRecord> resolved;
  for (const RoutedChange& c : task.changes) {
    if (s.ok()) s = ApplyThroughPolicy(conn_.get(), resolver, c, &resolved);
  }
  if (s.ok()) s = conn_->Execute("COMMIT");
  if (s.ok()) {
    resolver->Publish(resolved);
    return s;
  }
  if (!absl::IsUnavailable(s)) (void)conn_->Execute("ROLLBACK");
  return s;
}


}  // namespace duosync
