#include "full/verifier.h"

#include <chrono>
#include <map>
#include <mutex>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json_text.h"
#include "base/names.h"
#include "base/status_macros.h"
#include "full/table_columns.h"
#include "full/table_work_queue.h"
#include "source/schema_loader.h"
#include "sql/destination_session.h"

namespace duosync {
namespace {

// One table's verification SQL pieces.
struct Plan {
  const SelectedTable* table;
  std::vector<CopyColumn> cols;
  std::vector<int> key;  // positions in cols
  std::string src_table, dst_table;
  std::string crc;       // CRC32 of the row's synced columns
  std::string key_list;    // "`a`,`b`": key order
  std::string key_select;  // the key's columns as KeyOf reads them (key_expr)
};

// Key literals of a row (from the text protocol).
std::vector<std::string> KeyOf(const Plan& p, const SqlRow& row, size_t offset = 0) {
  std::vector<std::string> out;
  for (size_t i = 0; i < p.key.size(); ++i) {
    std::string lit;
    AppendKeyValue(row[offset + i], p.cols[p.key[i]], &lit);
    out.push_back(lit);
  }
  return out;
}

std::string KeyEquals(const Plan& p, const std::vector<std::string>& key) {
  std::string out;
  for (size_t i = 0; i < p.key.size(); ++i) {
    absl::StrAppend(&out, i ? " AND " : "", QuoteIdent(p.cols[p.key[i]].name), "=", key[i]);
  }
  return out;
}

std::string DescribeKey(const Plan& p, const std::vector<std::string>& key) {
  std::string out;
  for (size_t i = 0; i < p.key.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", p.cols[p.key[i]].name, "=", key[i]);
  }
  return out;
}

// Rows strictly after `after` in key order: (k1 > v1) OR (k1 = v1 AND k2 > v2) ...
std::string After(const Plan& p, const std::vector<std::string>& after) {
  std::string out = "(";
  for (size_t i = 0; i < p.key.size(); ++i) {
    out += i ? " OR (" : "(";
    for (size_t j = 0; j < i; ++j) absl::StrAppend(&out, QuoteIdent(p.cols[p.key[j]].name), "=", after[j], " AND ");
    absl::StrAppend(&out, QuoteIdent(p.cols[p.key[i]].name), ">", after[i], ")");
  }
  return out + ")";
}

class Verifier {
 public:
  explicit Verifier(const VerifyOptions& o) : o_(o) {}

  absl::StatusOr<VerifyReport> Run() {
    const auto start = std::chrono::steady_clock::now();
    report_.tables.resize(o_.tables.size());
    struct Connections {
      std::unique_ptr<SqlConnection> source, destination;
    };
    DUO_RETURN_IF_ERROR(ForEachTableInParallel<Connections>(
        o_.tables.size(), o_.threads,
        [this]() -> absl::StatusOr<Connections> {
          Connections c;
          DUO_ASSIGN_OR_RETURN(c.source, SqlConnection::Connect(o_.source));
          DUO_ASSIGN_OR_RETURN(c.destination, SqlConnection::Connect(o_.destination));
          for (SqlConnection* conn : {c.source.get(), c.destination.get()}) {
            DUO_RETURN_IF_ERROR(conn->Execute("SET SESSION time_zone='+00:00'"));
          }
          return c;
        },
        [this](Connections& c, size_t i) {
          DUO_RETURN_IF_ERROR(VerifyTable(c.source.get(), c.destination.get(), o_.tables[i], &report_.tables[i]));
          std::lock_guard<std::mutex> lock(mu_);
          ++tables_done_;
          Progress();
          return absl::OkStatus();
        }));
    // The rows still different: classified, and their repair read from the source, at once.
    bool any = false;
    for (const Pending& pending : pending_) any = any || !pending.suspects.empty();
    if (any) {
      if (o_.repair && o_.hold_link) DUO_RETURN_IF_ERROR(o_.hold_link());
      auto src = SqlConnection::Connect(o_.source);
      if (!src.ok()) return src.status();
      auto dst = SqlConnection::Connect(o_.destination);
      if (!dst.ok()) return dst.status();
      for (SqlConnection* conn : {src->get(), dst->get()}) {
        DUO_RETURN_IF_ERROR(conn->Execute("SET SESSION time_zone='+00:00'"));
      }
      for (const Pending& pending : pending_) {
        DUO_RETURN_IF_ERROR(Classify(src->get(), dst->get(), pending));
      }
    }
    for (const auto& t : report_.tables) {
      report_.rows_checked += t.rows_checked;
      report_.equal = report_.equal && t.missing.empty() && t.extra.empty() && t.different.empty();
    }
    if (o_.repair && !report_.repair.empty()) {
      if (o_.apply_repair) {
        DUO_RETURN_IF_ERROR(o_.apply_repair(report_.repair));
      } else {
        auto destination = ConnectDestination(o_.destination, o_.origin);
        if (!destination.ok()) return destination.status();
        DUO_RETURN_IF_ERROR((*destination)->Execute(
            absl::StrCat("START TRANSACTION;", absl::StrJoin(report_.repair, ";"), ";COMMIT")));
      }
      report_.repaired = true;
    }
    report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report_;
  }

 private:
  // REQUIRES: mu_ held.
  void Progress() {
    if (o_.progress) o_.progress(tables_done_, static_cast<int>(o_.tables.size()), rows_checked_);
  }

  absl::Status VerifyTable(SqlConnection* src, SqlConnection* dst, const SelectedTable& t, TableDiff* diff) {
    diff->table = t.source.ToString();
    Plan p;
    p.table = &t;
    auto cols = ReadCopyColumns(src, t);
    if (!cols.ok()) return cols.status();
    p.cols = *std::move(cols);
    auto schema = LoadTableSchema(src, t.source);
    if (!schema.ok()) return schema.status();
    if (schema->key_columns.empty()) return absl::OkStatus();  // not synced: nothing to compare
    for (int k : schema->key_columns) {
      for (size_t i = 0; i < p.cols.size(); ++i) {
        if (p.cols[i].name == schema->columns[k].name) p.key.push_back(i);
      }
    }
    p.src_table = QuoteTable(t.source.schema, t.source.table);
    p.dst_table = QuoteTable(t.destination.schema, t.destination.table);
    std::string values, nulls;
    for (size_t i = 0; i < p.cols.size(); ++i) {
      absl::StrAppend(&values, i ? "," : "", p.cols[i].select_expr);
      absl::StrAppend(&nulls, i ? "," : "", "ISNULL(", QuoteIdent(p.cols[i].name), ")");
    }
    // The CRC is over the bytes, not under the collation: case and trailing-space traps count.
    p.crc = absl::StrCat("CRC32(CONCAT_WS('#', ", values, ", CONCAT(", nulls, ")))");
    for (int k : p.key) {
      absl::StrAppend(&p.key_list, p.key_list.empty() ? "" : ",", QuoteIdent(p.cols[k].name));
      absl::StrAppend(&p.key_select, p.key_select.empty() ? "" : ",", p.cols[k].key_expr);
    }
    const std::string filter = t.where.empty() ? "1" : absl::StrCat("(", t.where, ")");

    std::set<std::vector<std::string>> suspects;
    std::vector<std::string> last;
    while (true) {
      // The chunk ends at the chunk_rows-th key after `last` on the source (or runs to the end).
      const std::string after = last.empty() ? "1" : After(p, last);
      auto bound = src->Query(absl::StrCat("SELECT ", p.key_select, " FROM ", p.src_table, " WHERE ", filter,
                                           " AND ", after, " ORDER BY ", p.key_list, " LIMIT 1 OFFSET ",
                                           o_.chunk_rows - 1));
      if (!bound.ok()) return bound.status();
      std::string range = after;
      std::vector<std::string> upper;
      if (!bound->empty()) {
        upper = KeyOf(p, (*bound)[0]);
        absl::StrAppend(&range, " AND NOT ", After(p, upper));
      }
      const std::string agg = absl::StrCat("SELECT COUNT(*), COALESCE(SUM(", p.crc, "),0), COALESCE(BIT_XOR(",
                                           p.crc, "),0) FROM ");
      auto a = src->Query(absl::StrCat(agg, p.src_table, " WHERE ", filter, " AND ", range));
      auto b = dst->Query(absl::StrCat(agg, p.dst_table, " WHERE ", range));
      if (!a.ok()) return a.status();
      if (!b.ok()) return b.status();
      ++diff->chunks;
      uint64_t rows = 0;
      (void)absl::SimpleAtoi((*a)[0][0].value_or("0"), &rows);
      diff->rows_checked += rows;
      {
        std::lock_guard<std::mutex> lock(mu_);
        rows_checked_ += rows;
        Progress();
      }
      if ((*a)[0] != (*b)[0]) DUO_RETURN_IF_ERROR(DrillDown(src, dst, p, filter, range, &suspects));
      if (upper.empty()) break;
      last = upper;
    }
    // A live link may not have applied a change yet: look again before calling a row different.
    for (int round = 0; round < o_.recheck_rounds && !suspects.empty(); ++round) {
      absl::SleepFor(o_.recheck_delay);
      std::set<std::vector<std::string>> still;
      for (const auto& key : suspects) {
        auto a = RowCrc(src, p, p.src_table, filter, key);
        auto b = RowCrc(dst, p, p.dst_table, "1", key);
        if (!a.ok()) return a.status();
        if (!b.ok()) return b.status();
        if (*a != *b) still.insert(key);
      }
      suspects.swap(still);
    }
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(Pending{p, filter, std::move(suspects), diff});
    return absl::OkStatus();
  }

  // A table's rows that stayed different through the rechecks.
  struct Pending {
    Plan plan;
    std::string filter;
    std::set<std::vector<std::string>> suspects;
    TableDiff* diff;
  };

  // Names each row of `pending` missing, extra or different, with the statement that repairs it
  // from the source's row as it is now.
  absl::Status Classify(SqlConnection* src, SqlConnection* dst, const Pending& pending) {
    const Plan& p = pending.plan;
    const std::string& filter = pending.filter;
    TableDiff* diff = pending.diff;
    for (const auto& key : pending.suspects) {
      auto a = RowCrc(src, p, p.src_table, filter, key);
      auto b = RowCrc(dst, p, p.dst_table, "1", key);
      if (!a.ok()) return a.status();
      if (!b.ok()) return b.status();
      if (*a == *b) continue;  // the link brought it over meanwhile
      std::string repair;
      if (!a->has_value()) {
        diff->extra.push_back(DescribeKey(p, key));
        repair = absl::StrCat("DELETE FROM ", p.dst_table, " WHERE ", KeyEquals(p, key));
      } else {
        (b->has_value() ? diff->different : diff->missing).push_back(DescribeKey(p, key));
        std::string select = "SELECT ";
        for (size_t i = 0; i < p.cols.size(); ++i) absl::StrAppend(&select, i ? "," : "", p.cols[i].select_expr);
        auto row = src->Query(absl::StrCat(select, " FROM ", p.src_table, " WHERE ", KeyEquals(p, key)));
        if (!row.ok()) return row.status();
        if (row->empty()) continue;  // deleted meanwhile
        repair = absl::StrCat("REPLACE INTO ", p.dst_table, " (");
        for (size_t i = 0; i < p.cols.size(); ++i) absl::StrAppend(&repair, i ? "," : "", QuoteIdent(p.cols[i].name));
        repair += ") VALUES (";
        for (size_t i = 0; i < p.cols.size(); ++i) {
          if (i) repair.push_back(',');
          AppendValue((*row)[0][i], p.cols[i], &repair, BinaryLiteral::kHex);
        }
        repair += ")";
      }
      report_.repair.push_back(repair);
    }
    return absl::OkStatus();
  }

  // The row's CRC on one side; nullopt when the row is absent there.
  absl::StatusOr<std::optional<std::string>> RowCrc(SqlConnection* c, const Plan& p, const std::string& table,
                                                    const std::string& filter, const std::vector<std::string>& key) {
    auto rows = c->Query(absl::StrCat("SELECT ", p.crc, " FROM ", table, " WHERE ", filter, " AND ", KeyEquals(p, key)));
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return std::optional<std::string>();
    return std::optional<std::string>((*rows)[0][0].value_or(""));
  }

  absl::Status DrillDown(SqlConnection* src, SqlConnection* dst, const Plan& p, const std::string& filter,
                         const std::string& range, std::set<std::vector<std::string>>* suspects) {
    auto a = src->Query(absl::StrCat("SELECT ", p.key_select, ",", p.crc, " FROM ", p.src_table, " WHERE ",
                                     filter, " AND ", range));
    auto b = dst->Query(absl::StrCat("SELECT ", p.key_select, ",", p.crc, " FROM ", p.dst_table, " WHERE ", range));
    if (!a.ok()) return a.status();
    if (!b.ok()) return b.status();
    std::map<std::vector<std::string>, std::string> src_rows;
    for (const auto& r : *a) src_rows[KeyOf(p, r)] = r.back().value_or("");
    for (const auto& r : *b) {
      auto key = KeyOf(p, r);
      auto it = src_rows.find(key);
      if (it == src_rows.end() || it->second != r.back().value_or("")) suspects->insert(key);
      if (it != src_rows.end()) src_rows.erase(it);
    }
    for (const auto& [key, crc] : src_rows) suspects->insert(key);
    return absl::OkStatus();
  }

  const VerifyOptions& o_;
  std::mutex mu_;
  int tables_done_ = 0;
  uint64_t rows_checked_ = 0;
  std::vector<Pending> pending_;  // guarded by mu_ while tables are compared
  VerifyReport report_;
};

}  // namespace

absl::StatusOr<VerifyReport> RunVerification(const VerifyOptions& options) {
  return Verifier(options).Run();
}

std::string VerifyReportJson(const VerifyReport& r) {
  std::string out = absl::StrCat("{\"equal\":", r.equal ? "true" : "false", ",\"rows_checked\":", r.rows_checked,
                                 ",\"seconds\":", r.seconds, ",\"repaired\":", r.repaired ? "true" : "false",
                                 ",\"tables\":[");
  for (size_t i = 0; i < r.tables.size(); ++i) {
    const TableDiff& t = r.tables[i];
    absl::StrAppend(&out, i ? "," : "", "{\"table\":");
    AppendJsonString(t.table, &out);
    absl::StrAppend(&out, ",\"rows_checked\":", t.rows_checked,
                    ",\"chunks\":", t.chunks, ",\"missing\":");
    AppendJsonStringList(t.missing, &out);
    out += ",\"extra\":";
    AppendJsonStringList(t.extra, &out);
    out += ",\"different\":";
    AppendJsonStringList(t.different, &out);
    out += "}";
  }
  out += "],\"repair\":";
  AppendJsonStringList(r.repair, &out);
  return out + "}";
}

}  // namespace duosync
