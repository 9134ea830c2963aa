#include "full/full_migration.h"

#include <algorithm>
#include <future>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "apply/checkpoint_tables.h"
#include "apply/fence.h"
#include "base/names.h"
#include "base/status_macros.h"
#include "base/system_schemas.h"
#include "full/table_columns.h"
#include "full/table_work_queue.h"
#include "source/schema_loader.h"
#include "sql/destination_session.h"
#include "sql/sql_literal.h"

namespace duosync {
namespace {

// A chunk of wide rows is cut to about this many bytes (a chunk is held in memory as read and as
// SQL while the next one is read).
constexpr size_t kChunkBytes = 64 << 20;

class Migrator {
 public:
  Migrator(const FullMigrationOptions& o,
           const std::function<void(const FullMigrationProgress&)>& progress)
      : o_(o), progress_cb_(progress) {}

  absl::Status Run() {
    auto dst = ConnectDestination(o_.destination);
    if (!dst.ok()) return dst.status();
    DUO_RETURN_IF_ERROR(EnsureFullProgressTable(dst->get()));
    progress_.tables_total = static_cast<int>(o_.tables.size());
    struct Connections {
      std::unique_ptr<SqlConnection> source;
      std::unique_ptr<SqlConnection> destination;
    };
    absl::Status copied = ForEachTableInParallel<Connections>(
        o_.tables.size(), o_.threads,
        [this]() -> absl::StatusOr<Connections> {
          Connections c;
          DUO_ASSIGN_OR_RETURN(c.source, SqlConnection::Connect(o_.source));
          DUO_ASSIGN_OR_RETURN(c.destination, ConnectDestination(o_.destination, o_.origin));
          // TIMESTAMP values as UTC text, like the sink writes them.
          DUO_RETURN_IF_ERROR(c.source->Execute("SET SESSION time_zone='+00:00'"));
          return c;
        },
        [this](Connections& c, size_t i) {
          DUO_RETURN_IF_ERROR(MigrateTable(c.source.get(), c.destination.get(), o_.tables[i]));
          std::lock_guard<std::mutex> lock(mu_);
          ++progress_.tables_done;
          if (progress_cb_) progress_cb_(progress_);
          return absl::OkStatus();
        });
    if (!copied.ok() || !o_.schema) return copied;
    // Views last: they read from the tables. A view that reads from another view may need the
    // latter first: retry the failed ones while each round makes progress.
    auto src = SqlConnection::Connect(o_.source);
    if (!src.ok()) return src.status();
    std::vector<const SelectedTable*> pending;
    for (const auto& v : o_.views) pending.push_back(&v);
    while (!pending.empty()) {
      std::vector<const SelectedTable*> failed;
      absl::Status last;
      for (const SelectedTable* v : pending) {
        absl::Status s = CreateView(src->get(), dst->get(), *v);
        if (!s.ok()) {
          failed.push_back(v);
          last = s;
        }
      }
      if (failed.size() == pending.size()) return last;
      pending.swap(failed);
    }
    return absl::OkStatus();
  }

 private:
  bool Stopping() const { return o_.stop != nullptr && o_.stop->load(); }

  absl::Status MigrateSchema(SqlConnection* src, SqlConnection* dst, const SelectedTable& t,
                             const std::vector<CopyColumn>& cols) {
    const std::string dst_table = QuoteTable(t.destination.schema, t.destination.table);
    auto existing = dst->Query(absl::StrCat(
        "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE "
        "TABLE_SCHEMA=", dst->Quote(t.destination.schema), " AND TABLE_NAME=",
        dst->Quote(t.destination.table)));
    if (!existing.ok()) return existing.status();
    auto src_cols = src->Query(absl::StrCat(
        "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE "
        "TABLE_SCHEMA=", src->Quote(t.source.schema), " AND TABLE_NAME=", src->Quote(t.source.table)));
    if (!src_cols.ok()) return src_cols.status();
    if (!existing->empty()) {
      // An existing table passes when it has every synced column with the same type.
      for (const CopyColumn& c : cols) {
        std::optional<std::string> src_type, dst_type;
        for (const auto& r : *src_cols) if (absl::EqualsIgnoreCase(r[0].value_or(""), c.name)) src_type = r[1];
        for (const auto& r : *existing) if (absl::EqualsIgnoreCase(r[0].value_or(""), c.name)) dst_type = r[1];
        if (!dst_type.has_value()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "destination table ", t.destination.ToString(), " exists but lacks column '", c.name,
              "'; add it or drop the table so that schema migration creates it"));
        }
        if (!absl::EqualsIgnoreCase(src_type.value_or(""), *dst_type)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "destination table ", t.destination.ToString(), " exists with column '", c.name,
              "' of type ", *dst_type, " but the source has ", src_type.value_or("?"),
              "; make the types equal or drop the destination table"));
        }
      }
      return AddMissingIndexes(src, dst, t);
    }
    auto create = src->Query(absl::StrCat("SHOW CREATE TABLE ", QuoteTable(t.source.schema, t.source.table)));
    if (!create.ok()) return create.status();
    std::string ddl = (*create)[0][1].value_or("");
    const size_t paren = ddl.find('(');
    if (!absl::StartsWith(ddl, "CREATE TABLE") || paren == std::string::npos) {
      return absl::FailedPreconditionError(absl::StrCat("cannot read the definition of ", t.source.ToString()));
    }
    ddl = absl::StrCat("CREATE TABLE IF NOT EXISTS ", dst_table, " ", ddl.substr(paren));
    auto db = src->QueryValue(absl::StrCat(
        "SELECT CONCAT(DEFAULT_CHARACTER_SET_NAME, ' COLLATE ', DEFAULT_COLLATION_NAME) FROM "
        "information_schema.SCHEMATA WHERE SCHEMA_NAME=", src->Quote(t.source.schema)));
    DUO_RETURN_IF_ERROR(dst->Execute(absl::StrCat(
        "CREATE DATABASE IF NOT EXISTS ", QuoteIdent(t.destination.schema),
        db.ok() && db->has_value() ? absl::StrCat(" CHARACTER SET ", **db) : "")));
    DUO_RETURN_IF_ERROR(dst->Execute(ddl));
    // Columns left out of the sync are not created.
    for (const auto& r : *src_cols) {
      bool chosen = false;
      for (const CopyColumn& c : cols) chosen = chosen || absl::EqualsIgnoreCase(c.name, r[0].value_or(""));
      if (!chosen) {
        DUO_RETURN_IF_ERROR(dst->Execute(absl::StrCat("ALTER TABLE ", dst_table, " DROP COLUMN ",
                                                      QuoteIdent(r[0].value_or("")))));
      }
    }
    if (o_.post_indexing && o_.copy) {
      auto idx = dst->Query(absl::StrCat(
          "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA=",
          dst->Quote(t.destination.schema), " AND TABLE_NAME=", dst->Quote(t.destination.table),
          " AND INDEX_NAME <> 'PRIMARY' AND NON_UNIQUE = 1"));  // unique keys must hold during the load
      if (!idx.ok()) return idx.status();
      for (const auto& r : *idx) {
        DUO_RETURN_IF_ERROR(dst->Execute(absl::StrCat("ALTER TABLE ", dst_table, " DROP INDEX ",
                                                      QuoteIdent(r[0].value_or("")))));
      }
    }
    return absl::OkStatus();
  }

  // Creates (or replaces) a view on the destination from the source's definition: the definer is
  // left out (the destination user owns it) and schemas renamed by the link are renamed in its body.
  absl::Status CreateView(SqlConnection* src, SqlConnection* dst, const SelectedTable& v) {
    auto def = src->Query(absl::StrCat("SHOW CREATE VIEW ", QuoteTable(v.source.schema, v.source.table)));
    if (!def.ok()) return def.status();
    std::string ddl = (*def)[0][1].value_or("");
    const size_t as = ddl.find(" AS ");
    if (as == std::string::npos) return absl::FailedPreconditionError("cannot read the view " + v.source.ToString());
    std::string body = ddl.substr(as + 4);
    if (v.source.schema != v.destination.schema) {
      body = absl::StrReplaceAll(body, {{QuoteIdent(v.source.schema) + ".", QuoteIdent(v.destination.schema) + "."}});
    }
    return dst->Execute(absl::StrCat("CREATE OR REPLACE SQL SECURITY INVOKER VIEW ",
                                     QuoteTable(v.destination.schema, v.destination.table), " AS ", body));
  }

  // Adds the source's secondary indexes that the destination lacks (after a post-indexed load).
  absl::Status AddMissingIndexes(SqlConnection* src, SqlConnection* dst, const SelectedTable& t) {
    const std::string stats =
        "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE FROM "
        "information_schema.STATISTICS WHERE INDEX_NAME <> 'PRIMARY' AND TABLE_SCHEMA=";
    auto want = src->Query(absl::StrCat(stats, src->Quote(t.source.schema), " AND TABLE_NAME=",
                                        src->Quote(t.source.table), " ORDER BY INDEX_NAME, SEQ_IN_INDEX"));
    auto have = dst->Query(absl::StrCat(stats, dst->Quote(t.destination.schema), " AND TABLE_NAME=",
                                        dst->Quote(t.destination.table)));
    if (!want.ok()) return want.status();
    if (!have.ok()) return have.status();
    std::vector<std::string> adds;
    std::string current, parts;
    bool unique = false;
    auto flush = [&] {
      if (current.empty()) return;
      bool exists = false;
      for (const auto& r : *have) exists = exists || r[0].value_or("") == current;
      if (!exists) {
        adds.push_back(absl::StrCat("ADD ", unique ? "UNIQUE " : "", "INDEX ", QuoteIdent(current),
                                    " (", parts, ")"));
      }
    };
    for (const auto& r : *want) {
      if (r[0].value_or("") != current) {
        flush();
        current = r[0].value_or("");
        parts.clear();
        unique = r[1].value_or("1") == "0";
      }
      absl::StrAppend(&parts, parts.empty() ? "" : ",", QuoteIdent(r[2].value_or("")),
                      r[3].has_value() ? absl::StrCat("(", *r[3], ")") : "");
    }
    flush();
    if (adds.empty()) return absl::OkStatus();
    return dst->Execute(absl::StrCat("ALTER TABLE ", QuoteTable(t.destination.schema, t.destination.table),
                                     " ", absl::StrJoin(adds, ", ")));
  }

  absl::Status MigrateTable(SqlConnection* src, SqlConnection* dst, const SelectedTable& t) {
    auto cols = ReadCopyColumns(src, t);
    if (!cols.ok()) return cols.status();
    if (o_.schema) DUO_RETURN_IF_ERROR(MigrateSchema(src, dst, t, *cols));
    if (!o_.copy) return absl::OkStatus();
    auto schema = LoadTableSchema(src, t.source);
    if (!schema.ok()) return schema.status();
    if (schema->key_columns.empty()) return absl::OkStatus();  // filtered out (reported by precheck)
    std::vector<int> key;  // positions of the key columns among `cols`
    for (int k : schema->key_columns) {
      for (size_t i = 0; i < cols->size(); ++i) {
        if (absl::EqualsIgnoreCase((*cols)[i].name, schema->columns[k].name)) key.push_back(i);
      }
    }
    if (key.size() != schema->key_columns.size()) {
      return absl::FailedPreconditionError(absl::StrCat("the chosen columns of ", t.source.ToString(),
                                                        " leave out a key column"));
    }
    const std::string name = t.source.ToString();
    const Fence fence{o_.link_id, o_.epoch};
    std::string quoted_link, quoted_name;
    AppendQuoted(o_.link_id, &quoted_link);
    AppendQuoted(name, &quoted_name);
    auto saved = dst->Query(absl::StrCat("SELECT last_key, rows_copied, done FROM ", kMetaSchema,
                                         ".full_progress WHERE link_id=", quoted_link,
                                         " AND table_name=", quoted_name));
    if (!saved.ok()) return saved.status();
    std::vector<std::string> last;  // literals of the last copied key
    uint64_t copied = 0;
    if (!saved->empty()) {
      if ((*saved)[0][2].value_or("0") == "1") {
        if (o_.post_indexing) return AddMissingIndexes(src, dst, t);
        return absl::OkStatus();
      }
      if ((*saved)[0][0].has_value() && !(*saved)[0][0]->empty()) last = absl::StrSplit(*(*saved)[0][0], '\x1f');
      (void)absl::SimpleAtoi((*saved)[0][1].value_or("0"), &copied);
    } else if (!o_.allow_nonempty_destination) {
      auto any = dst->Query(absl::StrCat("SELECT 1 FROM ", QuoteTable(t.destination.schema, t.destination.table),
                                         " LIMIT 1"));
      if (!any.ok()) return any.status();
      if (!any->empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "destination table ", t.destination.ToString(), " is not empty; empty it or set "
            "options.allow_nonempty_destination"));
      }
    }
    auto estimate = src->QueryValue(absl::StrCat(
        "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA=",
        src->Quote(t.source.schema), " AND TABLE_NAME=", src->Quote(t.source.table)));
    uint64_t est = 0;
    if (estimate.ok()) (void)absl::SimpleAtoi(estimate->value_or("0"), &est);
    {
      std::lock_guard<std::mutex> lock(mu_);
      progress_.rows_estimated += est;
      progress_.rows_copied += copied;
    }
    std::string select = "SELECT ";
    for (size_t i = 0; i < cols->size(); ++i) absl::StrAppend(&select, i ? "," : "", (*cols)[i].select_expr);
    // An ENUM / SET key column is also read as its member number, which pages in key order.
    std::vector<size_t> key_at;  // where each key column's paging value is in a row
    size_t extra = 0;
    for (int k : key) {
      if ((*cols)[k].ordinal) {
        key_at.push_back(cols->size() + extra++);
        absl::StrAppend(&select, ",", (*cols)[k].key_expr);
      } else {
        key_at.push_back(k);
      }
    }
    absl::StrAppend(&select, " FROM ", QuoteTable(t.source.schema, t.source.table), " WHERE (",
                    t.where.empty() ? "1" : t.where, ")");
    std::string order = " ORDER BY ";
    for (size_t i = 0; i < key.size(); ++i) absl::StrAppend(&order, i ? "," : "", QuoteIdent((*cols)[key[i]].name));
    // REPLACE: a row copied earlier whose unique value has since moved to a row copied now is
    // stale; it goes, and the incremental stage's replay from the copy's start (idempotent up
    // to its end) puts it back as it is now. (An INSERT would collide forever.)
    std::string insert = absl::StrCat("REPLACE INTO ",
                                      QuoteTable(t.destination.schema, t.destination.table), " (");
    for (size_t i = 0; i < cols->size(); ++i) absl::StrAppend(&insert, i ? "," : "", QuoteIdent((*cols)[i].name));
    insert += ") VALUES ";
    // No statement bigger than the destination takes (max_allowed_packet, less the protocol's
    // bytes); a chunk is sent as several INSERTs in its one transaction when it must be.
    auto packet = dst->MaxAllowedPacket();
    if (!packet.ok()) return packet.status();
    const size_t max_packet = *packet;
    const size_t budget = max_packet - 1024;
    // Rows per chunk shrink for wide rows, so that a chunk's rows stay near kChunkBytes in memory.
    size_t chunk_rows = static_cast<size_t>(o_.chunk_rows);
    // The rows after `after` (empty: from the start), at most `n`: a chunk.
    auto read_chunk = [&, key](const std::vector<std::string>& after, size_t n) -> absl::StatusOr<std::vector<SqlRow>> {
      std::string query = select;
      if (!after.empty()) {
        // Keyset pagination: rows after the last copied key, (k1 > v1) OR (k1 = v1 AND k2 > v2)...
        query += " AND (";
        for (size_t i = 0; i < key.size(); ++i) {
          absl::StrAppend(&query, i ? " OR (" : "(");
          for (size_t j = 0; j < i; ++j) absl::StrAppend(&query, QuoteIdent((*cols)[key[j]].name), "=", after[j], " AND ");
          absl::StrAppend(&query, QuoteIdent((*cols)[key[i]].name), ">", after[i], ")");
        }
        query += ")";
      }
      absl::StrAppend(&query, order, " LIMIT ", n);
      return src->Query(query);
    };
    // The source reads the next chunk while the destination writes this one.
    size_t asked_rows = chunk_rows;
    std::future<absl::StatusOr<std::vector<SqlRow>>> next_chunk =
        std::async(std::launch::async, read_chunk, last, asked_rows);
    while (!Stopping()) {
      auto rows = next_chunk.get();
      if (!rows.ok()) return rows.status();
      if (rows->empty()) break;
      const bool more = rows->size() >= asked_rows;
      std::vector<std::string> after;  // literals of this chunk's last key
      for (size_t i = 0; i < key.size(); ++i) {
        std::string lit;
        AppendKeyValue(rows->back()[key_at[i]], (*cols)[key[i]], &lit);  // hex: saved joined by \x1f
        after.push_back(lit);
      }
      if (more) {
        // Sized by this chunk's bytes as read, before the next is asked for.
        size_t read_bytes = 0;
        for (const SqlRow& row : *rows) {
          for (const auto& v : row) read_bytes += v.has_value() ? v->size() : 0;
        }
        chunk_rows = read_bytes > kChunkBytes
                         ? std::max<size_t>(1, std::min<size_t>(o_.chunk_rows, rows->size() * kChunkBytes / read_bytes))
                         : static_cast<size_t>(o_.chunk_rows);
        asked_rows = chunk_rows;
        next_chunk = std::async(std::launch::async, read_chunk, after, asked_rows);
      }
      DUO_RETURN_IF_ERROR(BeginFenced(dst, fence));
      std::string sql = insert, tuple;
      size_t in_statement = 0;
      for (size_t r = 0; r < rows->size(); ++r) {
        tuple = "(";
        for (size_t i = 0; i < cols->size(); ++i) {
          if (i) tuple.push_back(',');
          AppendValue((*rows)[r][i], (*cols)[i], &tuple);
        }
        tuple.push_back(')');
        if (insert.size() + tuple.size() > budget) {
          (void)dst->Execute("ROLLBACK");
          std::vector<std::string> key_text;
          for (int k : key) {
            std::string lit;
            AppendValue((*rows)[r][k], (*cols)[k], &lit, BinaryLiteral::kHex);
            key_text.push_back(absl::StrCat((*cols)[k].name, "=", lit.size() > 200 ? lit.substr(0, 200) + "..." : lit));
          }
          const size_t needed = insert.size() + tuple.size() + 1024;
          return absl::FailedPreconditionError(absl::StrCat(
              "copying ", name, " row (", absl::StrJoin(key_text, ", "), ") needs a statement of ", needed,
              " bytes, more than the destination's max_allowed_packet (", max_packet,
              "); raise it on the destination (SET GLOBAL max_allowed_packet=", ((needed >> 20) + 1) << 20,
              ", and in its config file) and resume: the copy goes on from this chunk"));
        }
        if (in_statement > 0 && sql.size() + 1 + tuple.size() > budget) {
          DUO_RETURN_IF_ERROR(dst->Execute(sql));
          sql = insert;
          in_statement = 0;
        }
        if (in_statement++ > 0) sql.push_back(',');
        sql += tuple;
      }
      last = std::move(after);
      copied += rows->size();
      std::string saved_key;
      AppendQuoted(absl::StrJoin(last, "\x1f"), &saved_key);
      const std::string progress = absl::StrCat("REPLACE INTO ", kMetaSchema, ".full_progress VALUES (",
                                                quoted_link, ",", quoted_name, ",", saved_key, ",", copied,
                                                ",0);COMMIT");
      if (sql.size() + 1 + progress.size() > budget) {
        DUO_RETURN_IF_ERROR(dst->Execute(sql));
        DUO_RETURN_IF_ERROR(dst->Execute(progress));
      } else {
        DUO_RETURN_IF_ERROR(dst->Execute(absl::StrCat(sql, ";", progress)));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        progress_.rows_copied += rows->size();
        if (progress_cb_) progress_cb_(progress_);
      }
      if (!more) break;
    }
    if (next_chunk.valid()) next_chunk.wait();  // a read still under way ends before the source is used again
    if (Stopping()) return absl::CancelledError("stopped during the full copy");
    if (o_.post_indexing) DUO_RETURN_IF_ERROR(AddMissingIndexes(src, dst, t));
    DUO_RETURN_IF_ERROR(BeginFenced(dst, fence));
    return dst->Execute(absl::StrCat("UPDATE ", kMetaSchema, ".full_progress SET done=1 WHERE link_id=",
                                     quoted_link, " AND table_name=", quoted_name, ";COMMIT"));
  }

  const FullMigrationOptions& o_;
  const std::function<void(const FullMigrationProgress&)>& progress_cb_;
  std::mutex mu_;
  FullMigrationProgress progress_;
};

}  // namespace

absl::Status RunFullMigration(const FullMigrationOptions& options,
                              const std::function<void(const FullMigrationProgress&)>& progress) {
  return Migrator(options, progress).Run();
}

}  // namespace duosync
