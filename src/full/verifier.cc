#include "full/verifier.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <optional>
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
#include "sql/statement_pieces.h"

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
        SqlConnection* d = destination->get();
        DUO_RETURN_IF_ERROR(d->Execute("START TRANSACTION"));
        absl::Status applied = ExecuteInPieces(d, report_.repair, "repair");
        if (!applied.ok()) {
          (void)d->Execute("ROLLBACK");
          return applied;
        }
        DUO_RETURN_IF_ERROR(d->Execute("COMMIT"));
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
      // CONCAT_WS skips NULLs: a marker per nullable column tells (NULL, 'a') from ('a', NULL).
      if (p.cols[i].nullable) absl::StrAppend(&nulls, nulls.empty() ? "" : ",", "ISNULL(", QuoteIdent(p.cols[i].name), ")");
    }
    // The CRC is over the bytes, not under the collation: case and trailing-space traps count.
    p.crc = absl::StrCat("CRC32(CONCAT_WS('#', ", values, nulls.empty() ? "" : absl::StrCat(", CONCAT(", nulls, ")"), "))");
    for (int k : p.key) {
      absl::StrAppend(&p.key_list, p.key_list.empty() ? "" : ",", QuoteIdent(p.cols[k].name));
      absl::StrAppend(&p.key_select, p.key_select.empty() ? "" : ",", p.cols[k].key_expr);
    }
    const std::string filter = t.where.empty() ? "1" : absl::StrCat("(", t.where, ")");
    const size_t written = std::count_if(schema->columns.begin(), schema->columns.end(),
                                         [](const ColumnSchema& c) { return !c.generated; });
    if (t.where.empty() && p.cols.size() == written) {
      // Whole rows of the whole table: the servers' own checksums first, at their speed; only
      // tables they call different are compared range by range.
      auto rows = RowsIfSameTableChecksum(src, dst, p);
      if (!rows.ok()) return rows.status();
      if (rows->has_value()) return CountChunk(SqlRow{std::to_string(**rows)}, diff);
    }

    std::set<std::vector<std::string>> suspects;
    auto ranges = IntegerRanges(src, p);
    if (!ranges.ok()) return ranges.status();
    if (ranges->has_value()) {
      // An integer key is cut into value ranges: both sides sum the same range at once, with no
      // ordering pass (a stretch of the key space without rows costs one quick query). A range
      // that differs is cut again, down to chunk_rows rows, and only those rows are compared.
      for (const KeyRange& range : **ranges) {
        DUO_RETURN_IF_ERROR(CompareRange(src, dst, p, filter, range, /*count=*/true, &suspects, diff));
      }
      return Settle(src, dst, p, filter, std::move(suspects), diff);
    }
    // Other keys page by key order. The source and the destination work at once: while the
    // destination sums chunk i, the source sums chunk i+1 (and finds where it ends).
    auto chunk = SourceChunk(src, p, filter, {});
    while (true) {
      if (!chunk.ok()) return chunk.status();
      const std::string range = chunk->range;
      auto on_destination = std::async(std::launch::async, [&] {
        return dst->Query(absl::StrCat(kAggregate(p), p.dst_table, " WHERE ", range));
      });
      absl::StatusOr<Chunk> next = absl::CancelledError("last chunk");
      if (!chunk->last) next = SourceChunk(src, p, filter, chunk->upper);
      auto b = on_destination.get();
      if (!b.ok()) return b.status();
      DUO_RETURN_IF_ERROR(CountChunk(chunk->sums, diff));
      if (b->empty() || chunk->sums != (*b)[0]) DUO_RETURN_IF_ERROR(DrillDown(src, dst, p, filter, range, &suspects));
      if (chunk->last) break;
      chunk = std::move(next);
    }
    return Settle(src, dst, p, filter, std::move(suspects), diff);
  }

  // When CHECKSUM TABLE gives the same on both sides (computed at once): the source's row count.
  // Nullopt when the definitions or the checksums differ or cannot be had (another server kind,
  // a missing table): the tables are compared range by range. Under one definition, tables whose
  // stored bytes differ differ in the checksum (but for a 32-bit collision); it reads like a
  // SELECT, without holding up writes.
  absl::StatusOr<std::optional<uint64_t>> RowsIfSameTableChecksum(SqlConnection* src, SqlConnection* dst, const Plan& p) {
    // The checksum sums stored bytes: it cannot tell two definitions apart that store a value
    // alike (INT and INT UNSIGNED, ENUMs with other members, charsets), so the definitions must
    // be the same, column by column.
    auto definition = [&p](SqlConnection* c, const TableRef& t) {
      return c->QueryValue(absl::StrCat(
          "SELECT GROUP_CONCAT(CONCAT_WS(0x1f, COLUMN_NAME, COLUMN_TYPE, IFNULL(CHARACTER_SET_NAME, ''), "
          "IFNULL(COLLATION_NAME, ''), IS_NULLABLE, EXTRA, IFNULL(GENERATION_EXPRESSION, '')) "
          "ORDER BY ORDINAL_POSITION SEPARATOR 0x1e) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=",
          c->Quote(t.schema), " AND TABLE_NAME=", c->Quote(t.table)));
    };
    auto a_definition = definition(src, p.table->source);
    auto b_definition = definition(dst, p.table->destination);
    if (!a_definition.ok() || !b_definition.ok() || !a_definition->has_value() || *a_definition != *b_definition) {
      return std::optional<uint64_t>();
    }
    auto on_destination = std::async(std::launch::async, [&] { return dst->Query(absl::StrCat("CHECKSUM TABLE ", p.dst_table)); });
    auto a = src->Query(absl::StrCat("CHECKSUM TABLE ", p.src_table));
    auto b = on_destination.get();
    if (!a.ok() || !b.ok() || a->empty() || b->empty() || (*a)[0].size() < 2 || (*b)[0].size() < 2 ||
        !(*a)[0][1].has_value() || (*a)[0][1] != (*b)[0][1]) {
      return std::optional<uint64_t>();
    }
    auto count = src->QueryValue(absl::StrCat("SELECT COUNT(*) FROM ", p.src_table));
    if (!count.ok()) return count.status();
    uint64_t n = 0;
    if (!absl::SimpleAtoi(count->value_or(""), &n)) return std::optional<uint64_t>();
    return std::optional<uint64_t>(n);
  }

  // Counts a compared chunk (its source row count first in `sums`).
  absl::Status CountChunk(const SqlRow& sums, TableDiff* diff) {
    ++diff->chunks;
    uint64_t rows = 0;
    (void)absl::SimpleAtoi(sums[0].value_or("0"), &rows);
    diff->rows_checked += rows;
    std::lock_guard<std::mutex> lock(mu_);
    rows_checked_ += rows;
    Progress();
    return absl::OkStatus();
  }

  // Key values from..to of a one-column integer key; an open end reaches past the source's keys
  // (a destination row outside them is seen).
  struct KeyRange {
    __int128 from = 0, to = 0;
    bool open_low = false, open_high = false;
  };

  static std::string RangeSql(const Plan& p, const KeyRange& r) {
    const std::string k = QuoteIdent(p.cols[p.key[0]].name);
    std::string out = "1";
    if (!r.open_low) absl::StrAppend(&out, " AND ", k, ">=", Int128Text(r.from));
    if (!r.open_high) absl::StrAppend(&out, " AND ", k, "<=", Int128Text(r.to));
    return out;
  }

  // Compares one range by its sums on both sides at once; where they differ, compares its rows
  // (at most about chunk_rows of them) or cuts it in ten and compares those. `count`: the range
  // is part of the first pass (its rows count as checked).
  absl::Status CompareRange(SqlConnection* src, SqlConnection* dst, const Plan& p, const std::string& filter,
                            const KeyRange& r, bool count, std::set<std::vector<std::string>>* suspects,
                            TableDiff* diff) {
    const std::string range = RangeSql(p, r);
    auto on_destination = std::async(std::launch::async, [&] {
      return dst->Query(absl::StrCat(kAggregate(p), p.dst_table, " WHERE ", range));
    });
    auto a = src->Query(absl::StrCat(kAggregate(p), p.src_table, " WHERE ", filter, " AND ", range));
    auto b = on_destination.get();
    if (!a.ok()) return a.status();
    if (!b.ok()) return b.status();
    if (a->empty() || b->empty()) return absl::InternalError("no aggregate row");
    if (count) DUO_RETURN_IF_ERROR(CountChunk((*a)[0], diff));
    if ((*a)[0] == (*b)[0]) return absl::OkStatus();
    uint64_t rows_a = 0, rows_b = 0;
    (void)absl::SimpleAtoi((*a)[0][0].value_or("0"), &rows_a);
    (void)absl::SimpleAtoi((*b)[0][0].value_or("0"), &rows_b);
    const __int128 span = r.to - r.from + 1;
    if (std::max(rows_a, rows_b) <= static_cast<uint64_t>(o_.chunk_rows) || span <= 10) {
      return DrillDown(src, dst, p, filter, range, suspects);
    }
    const __int128 step = (span + 9) / 10;
    for (__int128 from = r.from; from <= r.to; from += step) {
      KeyRange part;
      part.from = from;
      part.to = std::min<__int128>(r.to, from + step - 1);
      part.open_low = r.open_low && from == r.from;
      part.open_high = r.open_high && part.to == r.to;
      DUO_RETURN_IF_ERROR(CompareRange(src, dst, p, filter, part, false, suspects, diff));
    }
    return absl::OkStatus();
  }

  // For a one-column integer key: ranges of key values holding about ten chunks of rows each (by
  // the table's estimated size), the first and last open-ended. nullopt for other keys.
  absl::StatusOr<std::optional<std::vector<KeyRange>>> IntegerRanges(SqlConnection* src, const Plan& p) {
    if (p.key.size() != 1 || !p.cols[p.key[0]].integer) return std::optional<std::vector<KeyRange>>();
    const std::string k = QuoteIdent(p.cols[p.key[0]].name);
    auto bounds = src->Query(absl::StrCat("SELECT MIN(", k, "), MAX(", k, ") FROM ", p.src_table));
    if (!bounds.ok()) return bounds.status();
    std::vector<KeyRange> out;
    KeyRange all;
    all.open_low = all.open_high = true;
    if (bounds->empty() || !ParseInt128((*bounds)[0][0].value_or(""), &all.from) ||
        !ParseInt128((*bounds)[0][1].value_or(""), &all.to)) {
      all.from = all.to = 0;  // no source rows: the whole destination is one range
      out.push_back(all);
      return std::optional<std::vector<KeyRange>>(std::move(out));
    }
    auto estimate = src->QueryValue(absl::StrCat(
        "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA=", src->Quote(p.table->source.schema),
        " AND TABLE_NAME=", src->Quote(p.table->source.table)));
    uint64_t rows = 0;
    if (estimate.ok()) (void)absl::SimpleAtoi(estimate->value_or("0"), &rows);
    const __int128 span = all.to - all.from + 1;
    const __int128 target = std::max<__int128>(1, o_.chunk_rows) * 10;
    __int128 width = rows == 0 ? span : std::max<__int128>(1, span * target / static_cast<__int128>(rows));
    width = std::max<__int128>(width, span / 10000 + 1);  // not more ranges than a sparse table needs
    for (__int128 from = all.from; from <= all.to; from += width) {
      KeyRange r;
      r.from = from;
      r.to = std::min<__int128>(all.to, from + width - 1);
      r.open_low = from == all.from;
      r.open_high = r.to == all.to;
      out.push_back(r);
    }
    return std::optional<std::vector<KeyRange>>(std::move(out));
  }

  static bool ParseInt128(const std::string& text, __int128* out) {
    if (text.empty()) return false;
    size_t i = text[0] == '-' ? 1 : 0;
    if (i == text.size()) return false;
    __int128 v = 0;
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = text[0] == '-' ? -v : v;
    return true;
  }

  static std::string Int128Text(__int128 v) {
    if (v == 0) return "0";
    const bool negative = v < 0;
    std::string digits;
    for (; v != 0; v /= 10) digits.push_back(static_cast<char>('0' + (negative ? -(v % 10) : v % 10)));
    if (negative) digits.push_back('-');
    return std::string(digits.rbegin(), digits.rend());
  }

  // The suspects of a table rechecked (a live link may still be applying them), then kept for
  // classification.
  absl::Status Settle(SqlConnection* src, SqlConnection* dst, const Plan& p, const std::string& filter,
                      std::set<std::vector<std::string>> suspects, TableDiff* diff) {
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

  // One chunk of the source: its key range (after the previous chunk's upper key, up to its own),
  // and its rows' count and CRC sum.
  struct Chunk {
    std::string range;
    std::vector<std::string> upper;  // key literals of its last row; empty for the last chunk
    bool last = false;
    SqlRow sums;                     // COUNT, SUM of the rows' CRCs
  };

  static std::string kAggregate(const Plan& p) {
    // One sum: each row's CRC is computed once (a second aggregate of it would compute it again).
    return absl::StrCat("SELECT COUNT(*), COALESCE(SUM(", p.crc, "),0) FROM ");
  }

  // The next chunk_rows rows of the source after `after` (empty: from the start). A one-column
  // key takes one pass: the chunk's rows are summed and their greatest key found at once. A
  // longer key finds the chunk's end first.
  absl::StatusOr<Chunk> SourceChunk(SqlConnection* src, const Plan& p, const std::string& filter,
                                    const std::vector<std::string>& after) {
    Chunk c;
    c.range = after.empty() ? "1" : After(p, after);
    const size_t n = static_cast<size_t>(o_.chunk_rows);
    if (p.key.size() == 1) {
      auto r = src->Query(absl::StrCat(
          "SELECT COUNT(*), COALESCE(SUM(c),0), MAX(k) FROM (SELECT ", p.key_select,
          " AS k, ", p.crc, " AS c FROM ", p.src_table, " WHERE ", filter, " AND ", c.range, " ORDER BY ",
          p.key_list, " LIMIT ", n, ") chunk"));
      if (!r.ok()) return r.status();
      if (r->empty()) return absl::InternalError("no aggregate row");
      uint64_t count = 0;
      (void)absl::SimpleAtoi((*r)[0][0].value_or("0"), &count);
      c.last = count < n;
      if (!c.last) {
        c.upper = KeyOf(p, (*r)[0], 2);
        absl::StrAppend(&c.range, " AND NOT ", After(p, c.upper));
      }
      c.sums = SqlRow((*r)[0].begin(), (*r)[0].begin() + 2);
      return c;
    }
    auto bound = src->Query(absl::StrCat("SELECT ", p.key_select, " FROM ", p.src_table, " WHERE ", filter,
                                         " AND ", c.range, " ORDER BY ", p.key_list, " LIMIT 1 OFFSET ", n - 1));
    if (!bound.ok()) return bound.status();
    c.last = bound->empty();
    if (!c.last) {
      c.upper = KeyOf(p, (*bound)[0]);
      absl::StrAppend(&c.range, " AND NOT ", After(p, c.upper));
    }
    auto sums = src->Query(absl::StrCat(kAggregate(p), p.src_table, " WHERE ", filter, " AND ", c.range));
    if (!sums.ok()) return sums.status();
    if (sums->empty()) return absl::InternalError("no aggregate row");
    c.sums = (*sums)[0];
    return c;
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
